// safetensors I/O: round trips of every dtype, a file checked byte for byte against the format,
// one check per corrupt-file error, and atomic writes that leave nothing behind when they fail.
#include "runtime/atomic_file.h"
#include "runtime/safetensors.h"

#include <catch2/catch.hpp>

#include "tests/support/safetensors_bytes.h"
#include "tests/support/temp_dir.h"

#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>
#include <string>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

using namespace strata;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

using strata::testing::TempDir;

std::string read_bytes(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string &path, const std::string &bytes) {
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

using strata::testing::le64;
const auto &make_file = strata::testing::make_safetensors_file;

bool same_bytes(const Tensor &a, const Tensor &b) {
    const Tensor ca = a.contiguous(), cb = b.contiguous();
    return a.dtype() == b.dtype() && a.shape() == b.shape() &&
           std::memcmp(ca.raw_data(), cb.raw_data(), ca.nbytes()) == 0;
}

/// The message of the strata::Error that `read_safetensors(path)` throws ("" when none).
std::string read_error(const std::string &path) {
    try {
        read_safetensors(path);
    } catch (const Error &e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("Every dtype, 0-d and empty tensors and metadata round-trip exactly", "[runtime][safetensors]") {
    TempDir dir;
    Generator gen(3);
    Tensor f32 = Tensor::randn({2, 3}, gen);
    f32.data<float>()[1] = std::numeric_limits<float>::quiet_NaN();
    f32.data<float>()[2] = -0.0f;
    f32.data<float>()[3] = -std::numeric_limits<float>::infinity();
    const Tensor f64 = Tensor::full({}, 0.1, DType::f64);  // 0-d
    const Tensor i32 = Tensor::from_vector<int32_t>({-7, 0, 2147483647, -2147483647 - 1});
    const Tensor flags = Tensor::from_vector<bool>({true, false, false, true}, {2, 2});
    const Tensor empty = Tensor::zeros({0, 3});
    const Tensor permuted = Tensor::arange(6).reshape({2, 3}).permute({1, 0});  // written row-major
    const NamedTensors tensors = {{"layer.weight", f32}, {"scalar", f64},  {"ints", i32},
                                  {"mask", flags},       {"empty", empty}, {"permuted", permuted}};
    const std::map<std::string, std::string> metadata = {{"format", "pt"},
                                                         {"note", "ünïcode, \"quotes\"\n"}};
    const std::string path = dir / "all.safetensors";
    save_safetensors(path, tensors, metadata);

    const SafetensorsFile file = read_safetensors(path);
    CHECK(file.metadata == metadata);
    REQUIRE(file.tensors.size() == tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) {
        INFO(tensors[i].first);
        CHECK(file.tensors[i].first == tensors[i].first);
        CHECK(same_bytes(file.tensors[i].second, tensors[i].second));
    }
    CHECK(file.find("scalar")->dim() == 0);
    CHECK(file.find("permuted")->get_flat(1) == 3.0);
    CHECK(file.find("missing") == nullptr);
    CHECK(file.data_crc32 == safetensors_data_crc32(tensors));

    const SafetensorsHeader header = read_safetensors_header(path);
    CHECK(header.header_bytes % 8 == 0);
    CHECK(header.data_bytes == 24 + 8 + 16 + 4 + 0 + 24);
    CHECK(fs::file_size(path) == 8 + header.header_bytes + header.data_bytes);
    CHECK(dir.files() == std::set<std::string>{"all.safetensors"});  // no temporary file left
}

TEST_CASE("A small file is byte for byte what the format specifies", "[runtime][safetensors]") {
    TempDir dir;
    const NamedTensors tensors = {{"a", Tensor::from_vector<float>({1.0f, -2.0f})},
                                  {"b", Tensor::from_vector<int32_t>({-1}, {1, 1})},
                                  {"c", Tensor::from_vector<bool>({true}, {})}};
    // 190 bytes of JSON padded with 2 spaces to 192 = 0xc0; then 1.0f, -2.0f, -1 and true.
    const std::string json = R"({"__metadata__":{"k":"v"},)"
                             R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("b":{"dtype":"I32","shape":[1,1],"data_offsets":[8,12]},)"
                             R"("c":{"dtype":"BOOL","shape":[],"data_offsets":[12,13]}})";
    const std::string expected = std::string("\xc0\0\0\0\0\0\0\0", 8) + json + "  " +
                                 std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0\xff\xff\xff\xff\x01", 13);
    const std::string path = dir / "small.safetensors";
    save_safetensors(path, tensors, {{"k", "v"}});
    CHECK(read_bytes(path) == expected);

    // Without metadata there is no "__metadata__" entry: 53 bytes of JSON, 3 spaces, 0.5 as F64.
    const std::string plain = dir / "plain.safetensors";
    save_safetensors(plain, {{"a", Tensor::full({}, 0.5, DType::f64)}});
    CHECK(read_bytes(plain) == std::string("\x38\0\0\0\0\0\0\0", 8) +
                                   R"({"a":{"dtype":"F64","shape":[],"data_offsets":[0,8]}})" + "   " +
                                   std::string("\0\0\0\0\0\0\xe0\x3f", 8));

    // Another writer may order the header differently; tensors come back in data order.
    const std::string other = dir / "other.safetensors";
    write_bytes(other, make_file(R"({ "y": {"shape": [1], "dtype": "I32", "data_offsets": [4, 8]},)"
                                 R"( "__metadata__": {"format": "pt"},)"
                                 R"( "x": {"data_offsets": [0, 4], "dtype": "F32", "shape": []} })",
                                 std::string("\x00\x00\x80\x3f\x05\x00\x00\x00", 8)));
    const SafetensorsFile file = read_safetensors(other);
    REQUIRE(file.tensors.size() == 2);
    CHECK(file.tensors[0].first == "x");
    CHECK(file.tensors[0].second.item() == 1.0);
    CHECK(file.tensors[1].first == "y");
    CHECK(file.tensors[1].second.item() == 5.0);
    CHECK(file.metadata.at("format") == "pt");
}

TEST_CASE("Corrupt files are errors naming the file and the problem", "[runtime][safetensors][errors]") {
    TempDir dir;
    const std::string path = dir / "bad.safetensors";
    auto error_for = [&](const std::string &bytes) {
        write_bytes(path, bytes);
        return read_error(path);
    };
    const std::string one_f32 = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
    const std::string four(4, '\0');
    REQUIRE(error_for(make_file(one_f32, four)).empty());  // the well-formed base case

    CHECK_THAT(read_error(dir / "absent.safetensors"), Contains("absent.safetensors: cannot open"));
    CHECK_THAT(error_for(""), Contains(path + ": truncated: the file has 0 byte(s)"));
    CHECK_THAT(error_for(std::string("\x10\0\0", 3)), Contains(path + ": truncated: the file has 3 byte(s)"));
    CHECK_THAT(error_for(le64(1000) + "{}"),
               Contains(path + ": bad header length 1000: only 2 bytes follow"));
    CHECK_THAT(error_for(le64(uint64_t{1} << 63) + "{}"), Contains("bad header length 9223372036854775808"));
    CHECK_THAT(error_for(le64(0)), Contains(path + ": bad header length 0"));
    CHECK_THAT(error_for(make_file(R"({"a": {"dtype": "F32",)", "")),
               Contains(path + ": the header is not valid JSON"));
    CHECK_THAT(error_for(make_file("[1, 2]", "")), Contains(path + ": the header is not a JSON object"));
    const std::string f8 = R"({"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}})";
    CHECK_THAT(error_for(make_file(f8, std::string(1, '\0'))),
               Contains(path + ": tensor 'a' has dtype \"F8_E4M3\", which Strata cannot read (it reads F64, F32, "
                               "F16, BF16, I64, I32, I16, I8, U8 and BOOL)"));
    CHECK_THAT(error_for(make_file(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", four)),
               Contains("tensor 'a': every element of shape must be a non-negative integer, got -1"));
    CHECK_THAT(error_for(make_file(R"({"a":{"dtype":"F32","shape":[1]}})", four)),
               Contains("tensor 'a' has no data_offsets"));
    CHECK_THAT(error_for(make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}})", four)),
               Contains("tensor 'a': unknown field 'x'"));
    // Offsets that do not match the shape, both ways round, and reversed.
    CHECK_THAT(
        error_for(make_file(R"({"a":{"dtype":"F64","shape":[1],"data_offsets":[0,4]}})", four)),
        Contains(path + ": tensor 'a' (F64 [1]) needs 8 bytes, but its data_offsets [0, 4] span 4 bytes"));
    CHECK_THAT(error_for(make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", four)),
               Contains("needs 4 bytes, but its data_offsets [4, 0] span a negative range"));
    // The data section is shorter than the offsets say: a truncated file.
    std::string whole = make_file(one_f32, four);
    CHECK_THAT(error_for(whole.substr(0, whole.size() - 1)),
               Contains(path +
                        ": tensor 'a' (F32 [1]) has data_offsets [0, 4] past the end of the data, which has "
                        "3 bytes"));
    CHECK_THAT(error_for(whole + "xyz"),
               Contains(path + ": 3 trailing byte(s) after the data: the tensors end at byte 4 of a data "
                               "section of 7 bytes"));
    const std::string two = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                            R"("b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})";
    CHECK_THAT(error_for(make_file(two, std::string(6, '\0'))),
               Contains(path + ": tensor 'b' data_offsets [2, 6] overlap tensor 'a' [0, 4]"));
    const std::string gap = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                            R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
    CHECK_THAT(error_for(make_file(gap, std::string(12, '\0'))),
               Contains(path + ": bytes [4, 8) of the data belong to no tensor"));
    CHECK_THAT(error_for(make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                   R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                                   four)),
               Contains(path + ": the header names 'a' twice"));
    CHECK_THAT(error_for(make_file(R"({"__metadata__":{"step":3}})", "")),
               Contains("__metadata__ entry 'step' is 3; metadata values must be strings"));
    CHECK_THAT(error_for(make_file(R"({"m":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}})", "\x01\x02")),
               Contains(path + ": tensor 'm' (BOOL [2]): element 1 is byte 0x02; BOOL elements are 0 or 1"));
}

TEST_CASE("Bad tensors to save are errors and write nothing", "[runtime][safetensors][errors]") {
    TempDir dir;
    const std::string path = dir / "out.safetensors";
    const Tensor t = Tensor::ones({2});
    CHECK_THROWS_WITH(save_safetensors(path, {{"a", t}, {"a", t}}), Contains("two tensors are named 'a'"));
    CHECK_THROWS_WITH(save_safetensors(path, {{"", t}}), Contains("empty name"));
    CHECK_THROWS_WITH(save_safetensors(path, {{"__metadata__", t}}), Contains("reserved for metadata"));
    CHECK_THROWS_WITH(save_safetensors(path, {{"u", Tensor()}}), Contains("tensor 'u' is undefined"));
    CHECK_THROWS_WITH(save_safetensors(path, {{"a", t}}, {{"k", std::string("\xff\xfe")}}),
                      Contains("not valid UTF-8"));
    CHECK(dir.files().empty());
}

TEST_CASE("A failed write leaves no file and no temporary file behind", "[runtime][safetensors][atomic]") {
    TempDir dir;
    const NamedTensors tensors = {{"big", Tensor::ones({1 << 18})}};  // 1 MiB of data

    // A folder that does not exist: nothing can be created.
    const std::string missing = dir / "no/such/folder/model.safetensors";
    CHECK_THROWS_WITH(save_safetensors(missing, tensors), Contains(missing + ": cannot create the file"));
    CHECK(dir.files().empty());

    // A write that fails half way (as on a full disk: here a file size limit) keeps the old file.
    const std::string path = dir / "model.safetensors";
    save_safetensors(path, {{"small", Tensor::zeros({4})}});
    const std::string good = read_bytes(path);
    rlimit saved{};
    REQUIRE(getrlimit(RLIMIT_FSIZE, &saved) == 0);
    const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);  // get EFBIG instead of being killed
    rlimit small = saved;
    small.rlim_cur = 64 * 1024;
    REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
    std::string message;
    try {
        save_safetensors(path, tensors);
    } catch (const Error &e) {
        message = e.what();
    }
    setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, old_handler);
    CHECK_THAT(message, Contains(path + ": write failed after"));
    CHECK(read_bytes(path) == good);
    CHECK(dir.files() == std::set<std::string>{"model.safetensors"});

    // A writer abandoned before commit (an exception while streaming) removes its temporary file.
    {
        AtomicFileWriter out(dir / "model.safetensors");
        out.write("partial", 7);
        CHECK(fs::exists(out.temp_path()));
        CHECK(fs::path(out.temp_path()).parent_path() == dir.path);
    }
    CHECK(read_bytes(path) == good);
    CHECK(dir.files() == std::set<std::string>{"model.safetensors"});

    write_file_atomically(dir / "note.txt", "done\n");
    CHECK(read_bytes(dir / "note.txt") == "done\n");
    CHECK(dir.files() == std::set<std::string>{"model.safetensors", "note.txt"});
}
