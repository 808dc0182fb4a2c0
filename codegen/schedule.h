#pragma once
/// \file
/// Schedules, apart from the algorithm: how each node of a program is
/// computed (tiles, vectors, threads, stored or inlined), by op class, by op
/// and by node, in C++ or as a schedule file. No Halide in this header.
///
///     codegen::Schedule s;
///     s.for_op("conv2d").tile(32, 4).vectorize(16).parallel(true);
///     s.for_op("pointwise").compute_inline();      // an op class
///     s.for_node("%12").compute_root();            // one node, by id (as `strata schedule dump` shows it)
///     options.rules = s;                           // codegen::CompileOptions
///
/// Every field left unset keeps the default schedule's choice, so a rule only
/// says what it changes. Later, narrower rules win: class < op < node.
///
/// The file format is one rule per line (`#` starts a comment):
///
///     op conv2d tile=32x4 vectorize=16 parallel=on task=2
///     class pointwise compute=inline
///     node %12 compute=root
///
/// Directives:
///   compute=root|inline    store the node whole, or fold it into its consumers
///   vectorize=N            SIMD lanes on the innermost dimension (1: scalar)
///   tile=XxC               register tile: X outputs along the innermost dim
///                          (a multiple of the lanes) by C unrolled rows/channels
///   parallel=on|off        threads over the outer loops
///   task=N                 rows of outer loops per parallel task
///   gpu_threads=N          threads per GPU block (GPU targets only)

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace strata::ir {
class Program;
}

namespace strata::codegen {

/// How one node is computed; unset fields keep the default.
struct NodeSchedule {
    std::optional<bool> inline_into_consumers;
    std::optional<int64_t> vector_lanes;
    std::optional<int64_t> tile_x, tile_c;
    std::optional<bool> parallel_outer;
    std::optional<int64_t> task_rows;
    std::optional<int64_t> gpu_threads;

    NodeSchedule &compute_root() { inline_into_consumers = false; return *this; }
    NodeSchedule &compute_inline() { inline_into_consumers = true; return *this; }
    NodeSchedule &vectorize(int64_t lanes) { vector_lanes = lanes; return *this; }
    NodeSchedule &tile(int64_t x, int64_t c) { tile_x = x; tile_c = c; return *this; }
    NodeSchedule &parallel(bool on = true) { parallel_outer = on; return *this; }
    NodeSchedule &task(int64_t rows) { task_rows = rows; return *this; }
    NodeSchedule &gpu(int64_t threads) { gpu_threads = threads; return *this; }

    /// The fields of `narrower` override these.
    void merge(const NodeSchedule &narrower);
    bool empty() const;
    /// "tile=32x4 vectorize=16 ...", in a fixed order (the file syntax).
    std::string to_string() const;
    /// Names of the directives that are set ("tile", "vectorize", ...).
    std::vector<std::string> directives() const;
};

/// Rules for a whole program: by op class ("conv", "pointwise", ...), by op
/// ("conv2d") and by node ("%12").
class Schedule {
public:
    NodeSchedule &for_class(const std::string &op_class);
    /// An op name or, when it names one, an op class.
    NodeSchedule &for_op(const std::string &op);
    NodeSchedule &for_node(const std::string &node);

    /// The rule for a node: class, then op, then node rules merged.
    NodeSchedule resolve(const std::string &op_class, const std::string &op, const std::string &node) const;
    bool empty() const { return by_class_.empty() && by_op_.empty() && by_node_.empty(); }
    /// The node rules, to check that each names a node of the program.
    const std::map<std::string, NodeSchedule> &node_rules() const { return by_node_; }

    /// Adds the rules of `later`, which win where both set a field.
    void merge(const Schedule &later);

    /// The schedule file text; `parse_schedule(to_text())` gives this schedule back.
    std::string to_text() const;

private:
    std::map<std::string, NodeSchedule> by_class_, by_op_, by_node_;
};

/// Parses a schedule file's text; errors name the line and the directive.
Schedule parse_schedule(const std::string &text, const std::string &source_name = "<schedule>");
/// Reads and parses a schedule file.
Schedule load_schedule(const std::string &path);

}  // namespace strata::codegen
