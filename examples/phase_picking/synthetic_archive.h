#pragma once
// A synthetic MiniSEED archive for the phase-picking example: a folder tree laid out as
// SeisComP's SDS archives are (YEAR/NET/STA/CHAN.D/NET.STA.LOC.CHAN.D.YEAR.DAY.HHMM), one
// file per channel and 10 minutes, with P and S arrivals on noise, and the picks as CSV.

#include <cstdint>
#include <string>

namespace picking {

struct ArchiveOptions {
    int64_t stations = 4;     ///< XX.S01 ... (three channels BHZ, BHN, BHE each)
    int64_t minutes = 30;     ///< of data per station, from 2024-03-01T00:00:00Z
    double rate = 40.0;       ///< samples per second
    uint64_t seed = 0;
};

/// What `write_synthetic_archive` wrote.
struct Archive {
    std::string root;    ///< the folder tree
    std::string picks;   ///< CSV: network,station,phase,time (ISO 8601 UTC)
    int64_t files = 0, events = 0;
};

/// Writes the tree under `folder`/archive and the picks to `folder`/picks.csv. Events follow
/// each other every 25 to 70 s at each station; each has a P arrival (strongest on Z, 3-8 Hz)
/// and 3 to 10 s later an S arrival (larger, on N and E, lower frequency), both decaying, on
/// Gaussian noise of 100 counts. Samples are whole counts (Steim-2, as archives store them).
Archive write_synthetic_archive(const std::string &folder, const ArchiveOptions &options);

}  // namespace picking
