#pragma once
// Writes MiniSEED files with libmseed's own packer (msr_pack, Steim-2, 512-byte records), so
// tests of MiniSEED collections read files made the way real archives are made.
// Link the test with Libmseed::Libmseed (tests/CMakeLists.txt).

#include <libmseed.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace strata::testing {

/// One channel's samples to write: "XX.AAA..BHZ" starting at `start` (seconds since 1970).
struct MiniseedChannel {
    std::string network, station, location, channel;
    double start = 0.0;
    double rate = 0.0;
    std::vector<int32_t> samples;
};

/// Appends the records of `channels` to `path` (created when missing).
inline void append_miniseed(const std::string &path, const std::vector<MiniseedChannel> &channels) {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    REQUIRE(out);
    for (const MiniseedChannel &c : channels) {
        MSRecord *msr = msr_init(nullptr);
        REQUIRE(msr);
        std::strncpy(msr->network, c.network.c_str(), 10);
        std::strncpy(msr->station, c.station.c_str(), 10);
        std::strncpy(msr->location, c.location.c_str(), 10);
        std::strncpy(msr->channel, c.channel.c_str(), 10);
        msr->dataquality = 'D';
        msr->starttime = static_cast<hptime_t>(std::llround(c.start * HPTMODULUS));
        msr->samprate = c.rate;
        msr->reclen = 512;
        msr->encoding = DE_STEIM2;
        msr->byteorder = 1;  // big-endian, as SEED archives usually are
        std::vector<int32_t> samples = c.samples;
        msr->datasamples = samples.data();
        msr->numsamples = static_cast<int64_t>(samples.size());
        msr->sampletype = 'i';
        int64_t packed = 0;
        const int records = msr_pack(
            msr, [](char *record, int length, void *file) { static_cast<std::ofstream *>(file)->write(record, length); },
            &out, &packed, /*flush=*/1, /*verbose=*/0);
        msr->datasamples = nullptr;  // ours, not libmseed's to free
        msr_free(&msr);
        REQUIRE(records > 0);
        REQUIRE(packed == static_cast<int64_t>(c.samples.size()));
    }
    REQUIRE(out.flush());
}

}  // namespace strata::testing
