#include "runtime/miniseed.h"

#include "runtime/atomic_file.h"

#include <libmseed.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sys/stat.h>

// The calls below (ms_readmsr_r, mstl_addmsr, ...) are the libmseed 2.x API; 3.x renamed them.
static_assert(LIBMSEED_VERSION[0] == '2' && LIBMSEED_VERSION[1] == '.', "Strata needs libmseed 2.x");

// libmseed reports problems through global log callbacks. While a read is under way they
// collect the messages for the error text; otherwise they print as libmseed's defaults do.
static std::vector<std::string> *g_captured_messages = nullptr;  // guarded by log_mutex()

extern "C" {
static void strata_mseed_log(char *message) {
    if (g_captured_messages) g_captured_messages->emplace_back(message);
    else std::fputs(message, stdout);
}
static void strata_mseed_diag(char *message) {
    if (g_captured_messages) g_captured_messages->emplace_back(message);
    else std::fputs(message, stderr);
}
}

namespace strata {

std::string Trace::id() const { return fmt::format("{}.{}.{}.{}", network, station, location, channel); }

double Trace::duration_seconds() const {
    return sampling_rate > 0.0 ? static_cast<double>(samples.size()) / sampling_rate : 0.0;
}

Tensor Trace::to_tensor() const { return Tensor::from_vector(samples); }

namespace {

std::mutex &log_mutex() {
    static std::mutex mutex;
    return mutex;
}

/// Collects libmseed's messages of one file's read. The log mutex is held per libmseed call
/// (`run`), not for the whole file, so threads reading different files (a loader's workers)
/// take turns record by record instead of waiting for each other's files.
class LogCapture {
public:
    LogCapture() = default;
    LogCapture(const LogCapture &) = delete;
    LogCapture &operator=(const LogCapture &) = delete;

    /// Runs `call` (libmseed calls that may log) with the messages routed into this capture.
    template <typename Call> auto run(Call &&call) -> decltype(call()) {
        std::lock_guard<std::mutex> lock(log_mutex());
        // Installed on every call in case someone else re-initialised libmseed's logging.
        ms_loginit(strata_mseed_log, nullptr, strata_mseed_diag, nullptr);
        g_captured_messages = &messages_;
        struct Release {
            ~Release() { g_captured_messages = nullptr; }
        } release;
        return call();
    }

    /// Throws when libmseed reported an error (or a failed Steim integrity check, which means
    /// the decoded samples are wrong) since the last call; harmless header warnings are dropped.
    void throw_if_error(const std::string &path, const std::string &where) {
        std::string errors;
        for (std::string m : messages_) {
            while (!m.empty() && (m.back() == '\n' || m.back() == '\r')) m.pop_back();
            if (m.compare(0, 7, "Error: ") == 0) m.erase(0, 7);
            const bool warning = m.find("Warning") != std::string::npos;
            if (warning && m.find("integrity") == std::string::npos) continue;
            errors += (errors.empty() ? "" : "; ") + m;
        }
        messages_.clear();
        if (!errors.empty()) fail("{}: corrupt record {}: libmseed: {}", path, where, errors);
    }

    /// The messages so far, joined, for an error that has another cause.
    std::string text() const {
        std::string out;
        for (std::string m : messages_) {
            while (!m.empty() && (m.back() == '\n' || m.back() == '\r')) m.pop_back();
            if (m.compare(0, 7, "Error: ") == 0) m.erase(0, 7);
            out += (out.empty() ? "" : "; ") + m;
        }
        return out;
    }

private:
    std::vector<std::string> messages_;
};

/// libmseed's reading state and its current record, released however the read ends.
struct RecordReader {
    MSFileParam *file = nullptr;
    MSRecord *header = nullptr;   ///< the record just read, header only
    MSRecord *data = nullptr;     ///< the same record unpacked with its samples
    std::vector<char> copy;       ///< the record's bytes, which `data` is unpacked from
    ~RecordReader() {
        msr_free(&data);
        ms_readmsr_r(&file, &header, nullptr, 0, nullptr, nullptr, 0, 0, 0);
    }
};

struct TraceListOwner {
    MSTraceList *list = mstl_init(nullptr);
    ~TraceListOwner() { mstl_free(&list, 0); }
};

/// The size of a regular, non-empty file; throws for anything else.
uint64_t checked_file_size(const std::string &path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) fail("{}: cannot open: {}", path, std::strerror(errno));
    if (S_ISDIR(st.st_mode)) fail("{}: cannot read: is a directory, not a MiniSEED file", path);
    if (!S_ISREG(st.st_mode)) fail("{}: cannot read: not a regular file", path);
    if (st.st_size == 0) fail("{}: the file is empty; expected MiniSEED records", path);
    std::ifstream probe(path, std::ios::binary);
    if (!probe) fail("{}: cannot open: {}", path, std::strerror(errno));
    return static_cast<uint64_t>(st.st_size);
}

/// Up to `limit` bytes of the file from `begin` on (fewer at its end).
std::vector<char> read_bytes(const std::string &path, uint64_t begin, uint64_t limit) {
    std::vector<char> bytes(static_cast<size_t>(limit));
    std::ifstream in(path, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(begin));
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    bytes.resize(static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0)));
    return bytes;
}

bool all_zero(const std::string &path, uint64_t begin, uint64_t end) {
    std::ifstream in(path, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(begin));
    std::vector<char> chunk(1u << 16);
    for (uint64_t at = begin; at < end;) {
        const auto n = static_cast<std::streamsize>(std::min<uint64_t>(chunk.size(), end - at));
        if (!in.read(chunk.data(), n)) return false;
        if (!std::all_of(chunk.begin(), chunk.begin() + n, [](char c) { return c == 0; })) return false;
        at += static_cast<uint64_t>(n);
    }
    return true;
}

/// True for bytes [begin, end) that libmseed may skip without losing data: zero padding, a
/// blank (noise) record, or a SEED control header (volume, abbreviation, station, time span).
bool is_skippable(const std::string &path, uint64_t begin, uint64_t end) {
    if (all_zero(path, begin, end)) return true;
    const std::vector<char> head = read_bytes(path, begin, std::min<uint64_t>(end - begin, 48));
    if (head.size() < 48) return false;
    const bool sequence = std::all_of(head.begin(), head.begin() + 6,
                                      [](char c) { return (c >= '0' && c <= '9') || c == 0; });
    const bool blank = std::all_of(head.begin() + 6, head.end(), [](char c) { return c == ' '; });
    const bool control = head[6] && std::strchr("VAST", head[6]) && (head[7] == ' ' || head[7] == '*');
    return sequence && (blank || control);
}

/// True when `bytes` begin like a data record header: sequence number, quality code, and
/// (when present) a plausible start hour, minute and second.
bool starts_like_record(const std::vector<char> &bytes) {
    if (bytes.size() < 8) return false;
    const bool sequence = std::all_of(bytes.begin(), bytes.begin() + 6, [](char c) {
        return (c >= '0' && c <= '9') || c == ' ' || c == 0;
    });
    if (!sequence || !bytes[6] || !std::strchr("DRQM", bytes[6]) || (bytes[7] != ' ' && bytes[7]))
        return false;
    if (bytes.size() < 27) return true;
    const auto hour = static_cast<uint8_t>(bytes[24]), minute = static_cast<uint8_t>(bytes[25]),
               second = static_cast<uint8_t>(bytes[26]);
    return hour <= 23 && minute <= 59 && second <= 60;
}

/// Explains bytes [begin, end) that no record covered.
[[noreturn]] void fail_unread(const std::string &path, uint64_t begin, uint64_t end, bool at_end,
                              int64_t records, const std::string &log) {
    const std::vector<char> bytes = read_bytes(path, begin, std::min<uint64_t>(end - begin, MAXRECLEN));
    const std::string note = log.empty() ? "" : " (libmseed: " + log + ")";
    const uint64_t present = end - begin;
    const bool header_like = starts_like_record(bytes);
    // ms_detect: the record length; 0 or -1 when it cannot tell.
    const int length = bytes.size() >= 48 ? ms_detect(bytes.data(), static_cast<int>(bytes.size())) : -1;
    if (at_end && length >= MINRECLEN && length <= MAXRECLEN && static_cast<uint64_t>(length) > present)
        fail("{}: truncated: the record at byte {} is {} bytes long, only {} are present{}", path,
             begin, length, present, note);
    if (at_end && header_like && present < 48)
        fail("{}: truncated: the record at byte {} is cut short after {} bytes, inside its 48-byte "
             "header{}",
             path, begin, present, note);
    if (header_like)
        fail("{}: corrupt record at byte {}: it starts like a MiniSEED record but cannot be read{}",
             path, begin, note);
    if (records == 0)
        fail("{}: not a MiniSEED file: no MiniSEED record header at byte {}{}", path, begin, note);
    fail("{}: corrupt data: bytes {}..{} ({} bytes{}) are not a valid MiniSEED record{}", path,
         begin, end - 1, end - begin, at_end ? ", to the end of the file" : "", note);
}

/// Replaces the record's samples with doubles, so records of any encoding join one trace.
void convert_samples_to_double(const std::string &path, MSRecord *msr, off_t position) {
    const int64_t n = msr->numsamples;
    auto *out = static_cast<double *>(std::malloc(static_cast<size_t>(std::max<int64_t>(n, 1)) *
                                                  sizeof(double)));
    if (!out) fail("{}: out of memory for the {} samples of the record at byte {}", path, n, position);
    const void *in = msr->datasamples;
    for (int64_t i = 0; i < n; ++i) {
        switch (msr->sampletype) {
        case 'i': out[i] = static_cast<const int32_t *>(in)[i]; break;
        case 'f': out[i] = static_cast<const float *>(in)[i]; break;
        case 'd': out[i] = static_cast<const double *>(in)[i]; break;
        default:
            std::free(out);
            fail("{}: the record at byte {} has samples of unknown type '{}'", path, position,
                 msr->sampletype);
        }
    }
    for (int64_t i = 0; i < n; ++i) {
        if (std::isfinite(out[i])) continue;
        const double bad = out[i];
        std::free(out);
        fail("{}: the record at byte {} ({} samples) holds {} at sample {}; samples must be finite numbers", path,
             position, n, bad, i);
    }
    std::free(msr->datasamples);  // libmseed allocates with malloc and frees with free
    msr->datasamples = out;
    msr->sampletype = 'd';
}

/// Bytes per sample of the fixed-width encodings; 0 for compressed ones.
int sample_width(int encoding) {
    switch (encoding) {
    case DE_ASCII: return 1;
    case DE_INT16: return 2;
    case DE_INT32: return 4;
    case DE_FLOAT32: return 4;
    case DE_FLOAT64: return 8;
    default: return 0;
    }
}

/// Checks the record header `header` and unpacks its samples into `*data` (from a copy of
/// its bytes in `copy`).
MSRecord *unpack_record(const std::string &path, const std::string &where, const MSRecord *header, MSRecord **data,
                        std::vector<char> &copy, LogCapture &log) {
    const int reclen = header->reclen;
    if (reclen < MINRECLEN || reclen > MAXRECLEN || !header->fsdh)
        fail("{}: corrupt record {}: record length {} is outside {}..{}", path, where, reclen,
             MINRECLEN, MAXRECLEN);
    const int data_offset = header->fsdh->data_offset;
    if (header->samplecnt > 0 && (data_offset < 48 || data_offset >= reclen))
        fail("{}: corrupt record {}: data offset {} is outside the {}-byte record", path, where,
             data_offset, reclen);
    // libmseed trusts the sample count of fixed-width encodings and would read past the record.
    const int width = sample_width(header->encoding);
    if (width > 0 && header->samplecnt * width > reclen - data_offset)
        fail("{}: corrupt record {}: the header promises {} samples of {} bytes ({}), but only {} "
             "bytes of data follow",
             path, where, header->samplecnt, width, ms_encodingstr(header->encoding),
             reclen - data_offset);
    // Unpacked from a copy: the reader's buffer holds only this record's bytes for now.
    copy.assign(header->record, header->record + reclen);
    const int rc = log.run([&] { return msr_unpack(copy.data(), reclen, data, /*dataflag=*/1, 0); });
    log.throw_if_error(path, where);
    if (rc != MS_NOERROR)
        fail("{}: corrupt record {}: cannot decode {} data: {}", path, where,
             ms_encodingstr(header->encoding), ms_errorstr(rc));
    MSRecord *msr = *data;
    if (msr->numsamples != msr->samplecnt)
        fail("{}: corrupt record {}: the header promises {} samples, {} could be decoded", path, where,
             msr->samplecnt, msr->numsamples);
    return msr;
}

std::string iso_time(hptime_t time) {
    char text[64] = {0};
    if (!ms_hptime2isotimestr(time, text, 1)) return fmt::format("(invalid time {} us)", time);
    return std::string(text) + "Z";
}

std::vector<Trace> collect_traces(const MSTraceList *list) {
    std::vector<Trace> traces;
    for (const MSTraceID *id = list->traces; id; id = id->next) {
        for (const MSTraceSeg *seg = id->first; seg; seg = seg->next) {
            if (seg->numsamples == 0) continue;
            STRATA_ASSERT(seg->sampletype == 'd', "segment of sample type '{}'", seg->sampletype);
            Trace t;
            t.network = id->network;
            t.station = id->station;
            t.location = id->location;
            t.channel = id->channel;
            t.start_time = iso_time(seg->starttime);
            t.start_epoch_seconds = static_cast<double>(seg->starttime) / HPTMODULUS;
            t.sampling_rate = seg->samprate;
            const auto *data = static_cast<const double *>(seg->datasamples);
            t.samples.assign(data, data + seg->numsamples);
            traces.push_back(std::move(t));
        }
    }
    std::stable_sort(traces.begin(), traces.end(), [](const Trace &a, const Trace &b) {
        const std::string ia = a.id(), ib = b.id();
        return ia != ib ? ia < ib : a.start_epoch_seconds < b.start_epoch_seconds;
    });
    return traces;
}

}  // namespace

namespace {

/// A trace with more record runs than this keeps none (a multiplexed file, one run per record):
/// window reads of it scan the file's headers instead.
constexpr size_t kMaxRecordRuns = 256;

/// "XX.STA..BHZ" of a record, as Trace::id names its trace.
std::string record_id(const MSRecord *msr) {
    return fmt::format("{}.{}.{}.{}", msr->network, msr->station, msr->location, msr->channel);
}

/// The record runs of a whole-file read, gathered record by record (see MiniseedRecordRun).
class RecordRuns {
public:
    /// A decoded data record at byte `offset`: it extends the last run when it is of the same
    /// channel and length, follows it in the file and starts where it ended (half a period).
    void add(const MSRecord *msr, uint64_t offset) {
        const std::string id = record_id(msr);
        const double period = 1.0 / msr->samprate, start = double(msr->starttime) / HPTMODULUS;
        const double end = start + double(msr->numsamples) * period;
        if (!runs_.empty()) {
            Run &last = runs_.back();
            if (last.id == id && last.run.record_length == msr->reclen &&
                offset == last.run.offset + uint64_t(last.run.records) * uint64_t(msr->reclen) &&
                std::fabs(start - last.end) <= 0.5 * period) {
                ++last.run.records;
                last.end = end;
                last.samples += msr->numsamples;
                return;
            }
        }
        runs_.push_back({id, {offset, msr->reclen, 1}, start, end, msr->numsamples});
    }
    /// Gives each trace the runs inside its time span; none when they do not hold exactly its
    /// samples (overlapping traces of one channel) or are too many.
    void assign(std::vector<Trace> &traces) const {
        for (Trace &t : traces) {
            const std::string id = t.id();
            const double half = 0.5 / t.sampling_rate, end = t.start_epoch_seconds + t.duration_seconds();
            int64_t samples = 0;
            for (const Run &r : runs_)
                if (r.id == id && r.start >= t.start_epoch_seconds - half && r.end <= end + half) {
                    t.record_runs.push_back(r.run);
                    samples += r.samples;
                }
            if (samples != int64_t(t.samples.size()) || t.record_runs.size() > kMaxRecordRuns) t.record_runs.clear();
        }
    }

private:
    struct Run {
        std::string id;
        MiniseedRecordRun run;
        double start, end;
        int64_t samples;
    };
    std::vector<Run> runs_;
};

/// Reads the records of `path` into traces; with `window`, only the records whose samples
/// overlap [window->first, window->second) are decoded (every header is still checked).
std::vector<Trace> read_records(const std::string &path, const std::pair<double, double> *window) {
    const uint64_t file_size = checked_file_size(path);
    // libmseed reads standard input for the name "-".
    const std::string open_name = path == "-" ? "./-" : path;

    LogCapture log;
    RecordReader reader;
    TraceListOwner traces;
    RecordRuns runs;
    if (!traces.list) fail("{}: out of memory for libmseed's trace list", path);
    uint64_t next = 0;  // where the next record should start
    int64_t records = 0;
    for (;;) {
        off_t position = 0;
        const int rc = log.run([&] {
            return ms_readmsr_r(&reader.file, &reader.header, open_name.c_str(), -1, &position, nullptr,
                                /*skipnotdata=*/1, /*dataflag=*/0, /*verbose=*/0);
        });
        if (rc == MS_ENDOFFILE) break;
        if (rc != MS_NOERROR) {
            const std::string log_text = log.text();
            if (rc == MS_NOTSEED || rc == MS_WRONGLENGTH || rc == MS_OUTOFRANGE)
                fail_unread(path, next, file_size, true, records, log_text.empty() ? ms_errorstr(rc)
                                                                                   : log_text);
            fail("{}: cannot read the record at byte {}: {}{}", path, next, ms_errorstr(rc),
                 log_text.empty() ? "" : " (libmseed: " + log_text + ")");
        }
        const auto begin = static_cast<uint64_t>(position);
        const std::string where = fmt::format("at byte {}", begin);
        // libmseed skipped bytes it could not use; only padding may be dropped silently.
        if (begin > next && !is_skippable(path, next, begin))
            fail_unread(path, next, begin, false, records, log.text());
        log.throw_if_error(path, where);
        ++records;
        next = begin + static_cast<uint64_t>(std::max(reader.header->reclen, 0));
        if (window && reader.header->samplecnt > 0 && reader.header->samprate > 0 &&
            std::isfinite(reader.header->samprate)) {
            const double first = static_cast<double>(reader.header->starttime) / HPTMODULUS;
            const double end = first + static_cast<double>(reader.header->samplecnt) / reader.header->samprate;
            if (end <= window->first || first >= window->second) continue;  // not needed: not decoded
        }
        MSRecord *msr = unpack_record(path, where, reader.header, &reader.data, reader.copy, log);
        next = begin + static_cast<uint64_t>(msr->reclen);
        if (msr->sampletype == 'a' || msr->numsamples == 0) continue;  // log text or no data
        // A rate factor or multiplier of 0 means "no sampling", which only log records may say.
        if (!(msr->samprate > 0) || !std::isfinite(msr->samprate))
            fail("{}: corrupt record {}: {} samples at a sampling rate of {} (rate factor {}, multiplier "
                 "{}); samples need a positive rate",
                 path, where, msr->numsamples, msr->samprate, msr->fsdh->samprate_fact,
                 msr->fsdh->samprate_mult);
        convert_samples_to_double(path, msr, position);
        // Default tolerances: a gap or overlap over half a sample period starts a new segment.
        if (!log.run([&] { return mstl_addmsr(traces.list, msr, /*dataquality=*/0, /*autoheal=*/1, -1.0, -1.0); })) {
            log.throw_if_error(path, where);
            fail("{}: cannot add the record {} to its trace", path, where);
        }
        if (!window) runs.add(msr, begin);
    }
    log.throw_if_error(path, fmt::format("near byte {}", next));
    if (next < file_size && (records == 0 || !is_skippable(path, next, file_size)))
        fail_unread(path, next, file_size, true, records, log.text());

    std::vector<Trace> result = collect_traces(traces.list);
    if (result.empty() && !window)
        fail("{}: no numeric samples: its {} record(s) hold only text or no data", path, records);
    if (!window) runs.assign(result);
    return result;
}

}  // namespace

std::vector<Trace> read_miniseed(const std::string &path) { return read_records(path, nullptr); }

std::vector<Trace> read_miniseed(const std::string &path, double begin, double end) {
    if (!std::isfinite(begin) || !std::isfinite(end) || !(begin < end))
        fail("{}: the time window [{}, {}) is not a window; expected finite times (seconds since 1970) with begin < "
             "end",
             path, begin, end);
    const std::pair<double, double> window{begin, end};
    return read_records(path, &window);
}

std::vector<Trace> read_miniseed(const std::string &path, const std::string &channel_id,
                                 const std::vector<MiniseedRecordRun> &runs, double begin, double end) {
    if (!std::isfinite(begin) || !std::isfinite(end) || !(begin < end))
        fail("{}: the time window [{}, {}) is not a window; expected finite times (seconds since 1970) with begin < "
             "end",
             path, begin, end);
    const uint64_t file_size = checked_file_size(path);
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("{}: cannot open: {}", path, std::strerror(errno));
    LogCapture log;
    TraceListOwner traces;
    if (!traces.list) fail("{}: out of memory for libmseed's trace list", path);
    struct OwnedRecord {
        MSRecord *msr = nullptr;
        ~OwnedRecord() { msr_free(&msr); }
    } header, data;
    std::vector<char> bytes, copy;
    const char *changed = "the file changed since its record runs were taken (build the index again)";
    for (const MiniseedRecordRun &run : runs) {
        const auto length = static_cast<uint64_t>(std::max(run.record_length, 0));
        if (run.record_length < MINRECLEN || run.record_length > MAXRECLEN || run.records < 1 ||
            run.offset > file_size || uint64_t(run.records) > (file_size - run.offset) / length)
            fail("{}: truncated or changed: a run of {} records of {} bytes from byte {} does not fit in the {}-byte "
                 "file; {}",
                 path, run.records, run.record_length, run.offset, file_size, changed);
        // Reads record k's header into `header`; returns the span of its samples in time.
        auto read_header = [&](int64_t k) -> std::pair<double, double> {
            const uint64_t at = run.offset + uint64_t(k) * length;
            bytes.resize(size_t(length));
            in.clear();
            in.seekg(static_cast<std::streamoff>(at));
            if (!in.read(bytes.data(), static_cast<std::streamsize>(length)))
                fail("{}: cannot read the {} bytes at byte {}: {}", path, length, at, changed);
            const int detected = ms_detect(bytes.data(), run.record_length);
            if (detected != run.record_length)
                fail("{}: byte {}: expected a {}-byte record of {}, found {}; {}", path, at, run.record_length,
                     channel_id, detected > 0 ? fmt::format("a {}-byte record", detected) : "no record header", changed);
            const int rc = log.run([&] { return msr_unpack(bytes.data(), run.record_length, &header.msr, 0, 0); });
            log.throw_if_error(path, fmt::format("at byte {}", at));
            if (rc != MS_NOERROR) fail("{}: corrupt record at byte {}: {}", path, at, ms_errorstr(rc));
            const std::string id = record_id(header.msr);
            if (id != channel_id) fail("{}: the record at byte {} is of {}, expected {}; {}", path, at, id, channel_id, changed);
            if (header.msr->samplecnt <= 0 || !(header.msr->samprate > 0) || !std::isfinite(header.msr->samprate))
                fail("{}: the record at byte {} has {} samples at {} Hz; a run holds data records; {}", path, at,
                     header.msr->samplecnt, header.msr->samprate, changed);
            const double start = double(header.msr->starttime) / HPTMODULUS;
            return {start, start + double(header.msr->samplecnt) / header.msr->samprate};
        };
        // The first record ending after `begin` (records of a run follow each other in time).
        int64_t lo = 0, hi = run.records;
        while (lo < hi) {
            const int64_t mid = lo + (hi - lo) / 2;
            if (read_header(mid).second <= begin) lo = mid + 1;
            else hi = mid;
        }
        double previous_end = -INFINITY;
        for (int64_t k = lo; k < run.records; ++k) {
            const auto [start, stop] = read_header(k);
            if (start >= end) break;
            const uint64_t at = run.offset + uint64_t(k) * length;
            if (start < previous_end - 0.5 / header.msr->samprate)
                fail("{}: the record at byte {} starts at {} before the one before it ends ({}); {}", path, at,
                     iso_time(header.msr->starttime), iso_time(hptime_t(previous_end * HPTMODULUS)), changed);
            previous_end = stop;
            const std::string where = fmt::format("at byte {}", at);
            MSRecord *msr = unpack_record(path, where, header.msr, &data.msr, copy, log);
            if (msr->sampletype == 'a' || msr->numsamples == 0) continue;
            convert_samples_to_double(path, msr, static_cast<off_t>(at));
            if (!log.run([&] { return mstl_addmsr(traces.list, msr, /*dataquality=*/0, /*autoheal=*/1, -1.0, -1.0); })) {
                log.throw_if_error(path, where);
                fail("{}: cannot add the record {} to its trace", path, where);
            }
        }
    }
    return collect_traces(traces.list);
}

}  // namespace strata

namespace strata {

namespace {

/// A SEED code field checked against its length limit.
void check_code(const Trace &trace, const char *what, const std::string &code, size_t limit) {
    if (code.size() > limit)
        fail("write_miniseed: trace {}: the {} code '{}' has {} characters; SEED allows at most {}", trace.id(), what,
             code, code.size(), limit);
}

int encoding_code(MiniseedEncoding encoding) {
    switch (encoding) {
    case MiniseedEncoding::steim2: return DE_STEIM2;
    case MiniseedEncoding::int32: return DE_INT32;
    case MiniseedEncoding::float32: return DE_FLOAT32;
    case MiniseedEncoding::float64: return DE_FLOAT64;
    }
    fail("write_miniseed: unknown encoding {}", static_cast<int>(encoding));
}

/// The samples of `trace` as libmseed packs them for `encoding`: int32, float or double.
std::vector<char> packed_samples(const Trace &trace, MiniseedEncoding encoding, char *sample_type) {
    const size_t n = trace.samples.size();
    std::vector<char> bytes;
    auto store = [&](auto value) {
        const size_t at = bytes.size();
        bytes.resize(at + sizeof(value));
        std::memcpy(bytes.data() + at, &value, sizeof(value));
    };
    bytes.reserve(n * 8);
    for (size_t i = 0; i < n; ++i) {
        const double v = trace.samples[i];
        if (!std::isfinite(v)) fail("write_miniseed: trace {}: sample {} is {}; samples must be finite", trace.id(), i, v);
        if (encoding == MiniseedEncoding::float32) store(static_cast<float>(v));
        else if (encoding == MiniseedEncoding::float64) store(v);
        else {
            if (v != std::floor(v) || v < -2147483648.0 || v > 2147483647.0)
                fail("write_miniseed: trace {}: sample {} is {}; the {} encoding stores whole numbers in int32's range "
                     "(round the samples, or write float32/float64)",
                     trace.id(), i, v, encoding == MiniseedEncoding::steim2 ? "Steim-2" : "int32");
            store(static_cast<int32_t>(v));
        }
    }
    *sample_type = encoding == MiniseedEncoding::float32 ? 'f' : encoding == MiniseedEncoding::float64 ? 'd' : 'i';
    return bytes;
}

}  // namespace

void write_miniseed(const std::string &path, const std::vector<Trace> &traces, const MiniseedWriteOptions &options) {
    const int length = options.record_length;
    if (length < 256 || length > 8192 || (length & (length - 1)) != 0)
        fail("write_miniseed: record_length is {}; expected a power of two from 256 to 8192", length);
    if (traces.empty()) fail("write_miniseed: {}: no traces to write", path);
    const int encoding = encoding_code(options.encoding);
    std::string bytes;  // the whole file, written atomically at the end
    LogCapture log;
    for (const Trace &trace : traces) {
        check_code(trace, "network", trace.network, 2);
        check_code(trace, "station", trace.station, 5);
        check_code(trace, "location", trace.location, 2);
        check_code(trace, "channel", trace.channel, 3);
        if (!(trace.sampling_rate > 0) || !std::isfinite(trace.sampling_rate))
            fail("write_miniseed: trace {}: the sampling rate is {}; expected a positive rate in Hz", trace.id(),
                 trace.sampling_rate);
        if (trace.samples.empty()) fail("write_miniseed: trace {}: no samples", trace.id());
        if (!(std::fabs(trace.start_epoch_seconds) < 1e11))
            fail("write_miniseed: trace {}: the start time {} s since 1970 is out of range", trace.id(),
                 trace.start_epoch_seconds);
        char sample_type = 0;
        std::vector<char> samples = packed_samples(trace, options.encoding, &sample_type);
        MSRecord *msr = msr_init(nullptr);
        if (!msr) fail("write_miniseed: out of memory for a record of {}", trace.id());
        std::strncpy(msr->network, trace.network.c_str(), sizeof(msr->network) - 1);
        std::strncpy(msr->station, trace.station.c_str(), sizeof(msr->station) - 1);
        std::strncpy(msr->location, trace.location.c_str(), sizeof(msr->location) - 1);
        std::strncpy(msr->channel, trace.channel.c_str(), sizeof(msr->channel) - 1);
        msr->dataquality = 'D';
        msr->starttime = static_cast<hptime_t>(std::llround(trace.start_epoch_seconds * HPTMODULUS));
        msr->samprate = trace.sampling_rate;
        msr->reclen = length;
        msr->encoding = static_cast<uint8_t>(encoding);
        msr->byteorder = 1;  // big-endian, as SEED archives usually are
        msr->datasamples = samples.data();
        msr->numsamples = static_cast<int64_t>(trace.samples.size());
        msr->sampletype = sample_type;
        int64_t packed = 0;
        const int records = log.run([&] {
            return msr_pack(
                msr, [](char *record, int n, void *out) { static_cast<std::string *>(out)->append(record, size_t(n)); },
                &bytes, &packed, /*flush=*/1, /*verbose=*/0);
        });
        msr->datasamples = nullptr;  // ours, not libmseed's to free
        msr_free(&msr);
        if (records <= 0 || packed != static_cast<int64_t>(trace.samples.size()))
            fail("write_miniseed: {}: libmseed packed {} of the {} samples of {}{}", path, packed, trace.samples.size(),
                 trace.id(), log.text().empty() ? "" : " (libmseed: " + log.text() + ")");
    }
    AtomicFileWriter out(path);
    out.write(bytes.data(), bytes.size());
    out.commit();
}

}  // namespace strata
