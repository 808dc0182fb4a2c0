// The IR text parser: exact round trips and one test per parse error.

#include "ir/parser.h"
#include "ir/printer.h"

#include <catch2/catch.hpp>

#include <limits>

using namespace strata;
using namespace strata::ir;
using Catch::Contains;

namespace {

Type f32_of(Shape shape) { return {DType::f32, std::move(shape)}; }

Attrs conv_attrs(Ints stride, Ints padding, Ints dilation, int64_t groups) {
    return {{"stride", stride}, {"padding", padding}, {"dilation", dilation}, {"groups", groups}};
}

Attrs transposed_conv_attrs(Ints stride, Ints padding, Ints output_padding, int64_t groups) {
    Attrs a = conv_attrs(stride, padding, Ints(stride.size(), 1), groups);
    return a.set("output_padding", output_padding);
}

Attrs max_pool_attrs(Ints kernel, bool ceil_mode) {
    const Ints zeros(kernel.size(), 0), ones(kernel.size(), 1);
    return {{"kernel_size", kernel},
            {"stride", kernel},
            {"padding", zeros},
            {"dilation", ones},
            {"ceil_mode", ceil_mode}};
}

Attrs avg_pool_attrs(Ints kernel) {
    const Ints zeros(kernel.size(), 0);
    return {{"kernel_size", kernel},
            {"stride", kernel},
            {"padding", zeros},
            {"ceil_mode", true},
            {"count_include_pad", false},
            {"divisor_override", int64_t{3}}};
}

/// A program that uses every op in ops.def and every attribute kind and float form.
void build_every_op(Program &p) {
    const double inf = std::numeric_limits<double>::infinity();
    const Node *x = p.input("x \"quoted\" \\ back\nslash", f32_of({2, 4, 8, 8}));
    const Node *y = p.input("y", f32_of({2, 4, 8, 8}));
    const Node *w = p.parameter("conv.weight", f32_of({6, 4, 3, 3}));
    const Node *bias = p.parameter("conv.bias", f32_of({6}));
    const Node *seq = p.input("seq", f32_of({2, 4, 16}));
    const Node *w1 = p.parameter("conv1d.weight", f32_of({6, 4, 3}));
    const Node *wt = p.parameter("deconv.weight", f32_of({4, 2, 3, 3}));
    const Node *wt1 = p.parameter("deconv1d.weight", f32_of({4, 2, 3}));
    for (double v : {0.1, -2.5, 1e-05, 1e+20, 5e-324, inf, -inf, std::nan("")}) p.full(v, f32_of({}));
    const Type index_type{DType::i32, {3, 4}};
    const Node *classes = p.make(Op::iota, {}, {{"dim", int64_t{1}}}, &index_type);
    p.make(Op::check_class_index, {classes}, {{"classes", int64_t{4}}, {"ignore_index", int64_t{-100}}});

    for (Op op : {Op::neg, Op::exp, Op::log, Op::sqrt, Op::rsqrt, Op::abs, Op::relu, Op::sigmoid, Op::tanh, Op::erf})
        p.make(op, {x});
    p.make(Op::leaky_relu, {x}, {{"negative_slope", 0.01}});
    p.make(Op::elu, {x}, {{"alpha", 1.0}});
    p.make(Op::gelu, {x}, {{"approximate", std::string("tanh")}});
    p.make(Op::softplus, {x}, {{"beta", 1.0}, {"threshold", 20.0}});
    p.make(Op::dropout, {x}, {{"p", 0.5}, {"seed", int64_t{-1}}});
    const Node *step = p.input("rng.step", Type{DType::i32, {}});
    p.make(Op::dropout, {x, step}, {{"p", 0.25}, {"seed", int64_t{3}}});
    p.make(Op::cast, {x}, {{"dtype", DType::f64}});
    for (Op op : {Op::add, Op::sub, Op::mul, Op::div, Op::pow, Op::maximum, Op::minimum}) p.make(op, {x, y});
    const Node *lt = p.make(Op::lt, {x, y});
    for (Op op : {Op::eq, Op::ne, Op::le, Op::gt, Op::ge}) p.make(op, {x, y});
    const Node *not_lt = p.make(Op::logical_not, {lt});
    p.make(Op::logical_and, {lt, not_lt});
    p.make(Op::logical_or, {lt, not_lt});
    p.make(Op::where, {lt, x, y});

    for (Op op : {Op::sum, Op::mean, Op::max}) p.make(op, {x}, {{"dims", Ints{2, 3}}, {"keepdim", true}});
    p.make(Op::argmax, {x}, {{"dim", int64_t{1}}, {"keepdim", false}});
    p.make(Op::softmax, {x}, {{"dim", int64_t{1}}});
    p.make(Op::log_softmax, {x}, {{"dim", int64_t{1}}});

    const Node *flat = p.make(Op::reshape, {x}, {{"shape", Ints{2, 256}}});
    const Node *fc = p.parameter("fc.weight", f32_of({10, 256}));
    const Node *fc_bias = p.parameter("fc.bias", f32_of({10}));
    p.make(Op::linear, {flat, fc, fc_bias});
    p.make(Op::matmul, {x, p.make(Op::permute, {y}, {{"dims", Ints{0, 1, 3, 2}}})});

    p.make(Op::conv1d, {seq, w1}, conv_attrs({1}, {1}, {1}, 1));
    const Node *conv = p.make(Op::conv2d, {x, w, bias}, conv_attrs({1, 1}, {1, 1}, {1, 1}, 1));
    p.make(Op::conv_transpose1d, {seq, wt1}, transposed_conv_attrs({2}, {1}, {1}, 1));
    p.make(Op::conv_transpose2d, {x, wt}, transposed_conv_attrs({2, 2}, {1, 1}, {1, 1}, 1));

    p.make(Op::max_pool1d, {seq}, max_pool_attrs({3}, true));
    p.make(Op::max_pool2d, {conv}, max_pool_attrs({2, 2}, false));
    p.make(Op::max_pool1d_indices, {seq}, max_pool_attrs({3}, true));
    p.make(Op::max_pool2d_indices, {conv}, max_pool_attrs({2, 2}, false));
    for (const Shape &spatial : {Shape{8}, Shape{8, 8}}) {
        const bool one_d = spatial.size() == 1;
        Shape pooled = {2, 4}, full = {2, 4};
        for (int64_t e : spatial) pooled.push_back(e / 2), full.push_back(e);
        const Attrs unpool = {{"kernel_size", Ints(spatial.size(), 2)}, {"stride", Ints(spatial.size(), 2)},
                              {"padding", Ints(spatial.size(), 0)}, {"output_size", spatial}};
        const std::string tag = one_d ? "1d" : "2d";
        const Node *indices = p.input("unpool.indices" + tag, Type{DType::i32, pooled});
        p.make(one_d ? Op::max_unpool1d : Op::max_unpool2d, {p.input("unpool.x" + tag, f32_of(pooled)), indices},
               unpool);
        p.make(one_d ? Op::max_unpool1d_grad : Op::max_unpool2d_grad, {p.input("unpool.g" + tag, f32_of(full)), indices},
               unpool);
    }
    // F.interpolate's ops (scale factors that print in full) and their gradients.
    const Attrs nearest1d = {{"output_size", Ints{40}}, {"scales", 2.5}};
    const Attrs linear1d = {{"output_size", Ints{24}}, {"align_corners", true}, {"scales", 0.0}};
    const Attrs nearest2d = {{"output_size", Ints{12, 5}}, {"scales_h", 1.5}, {"scales_w", 0.7}};
    const Attrs bilinear2d = {{"output_size", Ints{3, 9}}, {"align_corners", false}, {"scales_h", 0.0},
                              {"scales_w", 1.1}};
    const std::pair<Op, Attrs> resamples[] = {{Op::upsample_nearest1d, nearest1d}, {Op::upsample_linear1d, linear1d},
                                              {Op::upsample_nearest2d, nearest2d}, {Op::upsample_bilinear2d, bilinear2d}};
    const Op resample_grads[] = {Op::upsample_nearest1d_grad, Op::upsample_linear1d_grad, Op::upsample_nearest2d_grad,
                                 Op::upsample_bilinear2d_grad};
    for (size_t i = 0; i < 4; ++i) {
        const Node *source = i < 2 ? seq : x;
        const Node *up = p.make(resamples[i].first, {source}, resamples[i].second);
        Attrs grad_attrs = resamples[i].second;
        p.make(resample_grads[i], {p.input("grad.up" + std::to_string(i), up->type)},
               grad_attrs.set("input_shape", source->shape()));
    }
    p.make(Op::avg_pool1d, {seq}, avg_pool_attrs({2}));
    p.make(Op::avg_pool2d, {conv}, avg_pool_attrs({2, 2}));
    p.make(Op::adaptive_avg_pool1d, {seq}, {{"output_size", Ints{5}}});
    const Node *pooled = p.make(Op::adaptive_avg_pool2d, {conv}, {{"output_size", Ints{1, 1}}});

    p.make(Op::expand, {bias}, {{"shape", Ints{2, 6}}});
    p.make(Op::slice, {x},
           {{"dim", int64_t{2}}, {"start", int64_t{1}}, {"end", int64_t{7}}, {"step", int64_t{2}}});
    p.make(Op::concat, {x, y, x}, {{"dim", int64_t{1}}});
    p.make(Op::pad, {x}, {{"pad", Ints{1, 1, 2, 2}}, {"mode", std::string("reflect")}, {"value", 0.0}});
    p.make(Op::reshape, {p.make(Op::sum, {x}, {{"dims", Ints{0, 1, 2, 3}}, {"keepdim", false}})},
           {{"shape", Ints{}}});

    // Gradient ops, each with the attributes of its forward op plus the shape it restores.
    const Node *conv_out_grad = p.input("grad.conv", f32_of({2, 6, 8, 8}));
    Attrs gw = conv_attrs({1, 1}, {1, 1}, {1, 1}, 1);
    p.make(Op::conv2d_grad_weight, {x, conv_out_grad}, gw.set("weight_shape", Ints{6, 4, 3, 3}));
    Attrs gw1 = conv_attrs({1}, {1}, {1}, 1);
    p.make(Op::conv1d_grad_weight, {seq, p.input("grad.conv1d", f32_of({2, 6, 16}))},
           gw1.set("weight_shape", Ints{6, 4, 3}));
    const Node *pool_grad = p.input("grad.pool", f32_of({2, 6, 4, 4}));
    p.make(Op::max_pool2d_grad, {conv, pool_grad}, max_pool_attrs({2, 2}, false));
    p.make(Op::max_pool1d_grad, {seq, p.input("grad.pool1d", f32_of({2, 4, 6}))}, max_pool_attrs({3}, true));
    Attrs ag = avg_pool_attrs({2, 2});
    p.make(Op::avg_pool2d_grad, {pool_grad}, ag.set("input_shape", Ints{2, 6, 8, 8}));
    Attrs ag1 = avg_pool_attrs({2});
    p.make(Op::avg_pool1d_grad, {p.input("grad.avg1d", f32_of({2, 4, 8}))}, ag1.set("input_shape", Ints{2, 4, 16}));
    p.make(Op::adaptive_avg_pool2d_grad, {p.input("grad.gap", f32_of({2, 6, 1, 1}))},
           {{"input_shape", Ints{2, 6, 8, 8}}});
    p.make(Op::adaptive_avg_pool1d_grad, {p.input("grad.ap1d", f32_of({2, 4, 5}))}, {{"input_shape", Ints{2, 4, 16}}});
    p.make(Op::pad_grad, {p.input("grad.pad", f32_of({2, 4, 12, 10}))},
           {{"pad", Ints{1, 1, 2, 2}}, {"mode", std::string("reflect")}, {"input_shape", Ints{2, 4, 8, 8}}});

    const Node *logits = p.input("logits", f32_of({2, 5}));
    const Node *labels = p.input("labels", Type{DType::i32, {2}});
    const Attrs ce{{"ignore_index", int64_t{-100}}, {"label_smoothing", 0.1}, {"reduction", std::string("mean")}};
    const Node *ce_loss = p.make(Op::cross_entropy, {logits, labels}, ce);
    p.make(Op::cross_entropy_grad, {logits, labels, p.full(1.0, f32_of({}))}, ce);
    const Node *class_weight = p.parameter("class_weight", f32_of({5}));  // the optional weight input
    p.make(Op::cross_entropy, {logits, labels, class_weight}, ce);
    p.make(Op::cross_entropy_grad, {logits, labels, p.full(1.0, f32_of({})), class_weight}, ce);
    p.add_output("loss", ce_loss);
    const Node *gamma = p.parameter("bn.weight", f32_of({4})), *beta = p.parameter("bn.bias", f32_of({4}));
    p.make(Op::batch_norm_train, {x, gamma, beta}, {{"eps", 1e-05}});
    p.make(Op::batch_norm_train_grad, {x, gamma, y}, {{"eps", 1e-05}});

    p.add_output("pooled", pooled);
    p.add_output("odd \"name\"", conv);
}

}  // namespace

TEST_CASE("print(parse(text)) == text for a program using every op") {
    Program p;
    build_every_op(p);
    const std::string text = print(p);
    for (const OpInfo &info : all_ops()) {
        INFO("op " << info.name << " is missing from the round-trip program");
        REQUIRE(text.find(std::string(" = ") + info.name + "(") != std::string::npos);
    }
    for (const char *literal : {"nan", "inf", "-inf", "1e-05", "1e+20", "5e-324", "=true", "=false", "=[]",
                                "=f64", "seed=-1", "\\\"quoted\\\" \\\\ back\\nslash"}) {
        INFO("literal " << literal);
        REQUIRE(text.find(literal) != std::string::npos);
    }
    const Program parsed = parse(text);
    REQUIRE(print(parsed) == text);
    REQUIRE(parsed.fingerprint() == p.fingerprint());
    REQUIRE(parsed.find_source("x \"quoted\" \\ back\nslash") != nullptr);
}

TEST_CASE("parse accepts comments, blank lines, free spacing and any unique ids") {
    const std::string text = "# a comment\n"
                             "\n"
                             "%10 = input() {name=\"x\"} : f32[2, 3]   # trailing comment\r\n"
                             "  %7=relu( %10 ) :f32[2,3]\n"
                             "%3 = sum(%7) { dims = [ 1 ] , keepdim = false } : f32[ 2 ]\n"
                             "\toutput \"y\" = %3\n";
    REQUIRE(print(parse(text)) == "%0 = input() {name=\"x\"} : f32[2,3]\n"
                                  "%1 = relu(%0) : f32[2,3]\n"
                                  "%2 = sum(%1) {dims=[1], keepdim=false} : f32[2]\n"
                                  "output \"y\" = %2\n");
}

TEST_CASE("parse merges repeated expressions (nodes are hash-consed)") {
    const Program p = parse("%0 = input() {name=\"x\"} : f32[2]\n"
                            "%1 = exp(%0) : f32[2]\n"
                            "%2 = exp(%0) : f32[2]\n"
                            "%3 = add(%1, %2) : f32[2]\n"
                            "output \"y\" = %3\n");
    REQUIRE(print(p) == "%0 = input() {name=\"x\"} : f32[2]\n"
                        "%1 = exp(%0) : f32[2]\n"
                        "%2 = add(%1, %1) : f32[2]\n"
                        "output \"y\" = %2\n");
}

TEST_CASE("parse error: missing ')' after the inputs") {
    REQUIRE_THROWS_WITH(parse("%0 = input() {name=\"x\"} : f32[2]\n"
                              "%1 = add(%0, %0 {} : f32[2]\n"),
                        "<ir>:2:17: expected ')' after inputs, got '{'");
}

TEST_CASE("parse error: unknown op") {
    REQUIRE_THROWS_WITH(parse("%0 = input() {name=\"x\"} : f32[2]\n%1 = frobnicate(%0) : f32[2]\n", "net.ir"),
                        "net.ir:2:6: unknown op 'frobnicate'");
}

TEST_CASE("parse error: unknown attribute") {
    REQUIRE_THROWS_WITH(parse("%0 = input() {name=\"x\"} : f32[2]\n%1 = relu(%0) {alpha=1.0} : f32[2]\n"),
                        "<ir>:2:16: relu: unknown attribute 'alpha' (the op takes: no attributes)");
}

TEST_CASE("parse error: attribute of the wrong kind") {
    REQUIRE_THROWS_WITH(parse("%0 = input() {name=\"x\"} : f32[2]\n"
                              "%1 = leaky_relu(%0) {negative_slope=1} : f32[2]\n"),
                        "<ir>:2:37: leaky_relu: attribute 'negative_slope' is 1 but must be of kind float");
}

TEST_CASE("parse error: attribute given twice") {
    REQUIRE_THROWS_WITH(parse("%0 = input() {name=\"x\", name=\"y\"} : f32[2]\n"),
                        "<ir>:1:25: attribute 'name' is given twice");
}

TEST_CASE("parse error: missing attribute (Program::make's message, placed at the op)") {
    REQUIRE_THROWS_WITH(parse("%0 = input() {name=\"x\"} : f32[2,3]\n%1 = softmax(%0) : f32[2,3]\n"),
                        "<ir>:2:6: softmax: missing attribute 'dim' (expected a value of kind int)");
}

TEST_CASE("parse error: undefined node id") {
    REQUIRE_THROWS_WITH(parse("%0 = input() {name=\"x\"} : f32[2]\n%1 = add(%0, %5) : f32[2]\n"),
                        "<ir>:2:14: %5 is not defined (a node must be defined before it is used)");
}

TEST_CASE("parse error: use before definition") {
    REQUIRE_THROWS_WITH(parse("%1 = relu(%0) : f32[2]\n%0 = input() {name=\"x\"} : f32[2]\n"),
                        Contains("<ir>:1:11: %0 is not defined"));
}

TEST_CASE("parse error: duplicate node id") {
    REQUIRE_THROWS_WITH(parse("%0 = input() {name=\"x\"} : f32[2]\n\n%0 = relu(%0) : f32[2]\n"),
                        "<ir>:3:1: %0 is defined twice (first on line 1)");
}

TEST_CASE("parse error: written type differs from the inferred type") {
    REQUIRE_THROWS_WITH(
        parse("%0 = input() {name=\"x\"} : f32[2,3]\n"
              "%1 = sum(%0) {dims=[1], keepdim=true} : f32[2]\n"),
        "<ir>:2:41: %1 (sum): the written type f32[2] does not match the inferred type f32[2,1]");
}

TEST_CASE("parse error: shape-rule errors get the position of the op") {
    REQUIRE_THROWS_WITH(parse("%0 = input() {name=\"a\"} : f32[2,3]\n"
                              "%1 = input() {name=\"b\"} : f32[4,3]\n"
                              "%2 = add(%0, %1) : f32[4,3]\n"),
                        Contains("<ir>:3:6: add: shapes [2, 3] and [4, 3] cannot be broadcast together"));
}

TEST_CASE("parse error: unknown dtype") {
    REQUIRE_THROWS_WITH(parse("%0 = input() {name=\"x\"} : f16[2]\n"),
                        "<ir>:1:27: unknown dtype 'f16' (expected f32, f64, i32, i64 or bool)");
}

TEST_CASE("parse error: negative extent") {
    REQUIRE_THROWS_WITH(parse("%0 = input() {name=\"x\"} : f32[2,-1]\n"),
                        "<ir>:1:33: extent -1 must be >= 0");
}

TEST_CASE("parse error: missing type") {
    REQUIRE_THROWS_WITH(parse("%0 = input() {name=\"x\"}\n"),
                        "<ir>:1:24: expected ':' before the result type, got the end of the line");
}

TEST_CASE("parse error: text after the type") {
    REQUIRE_THROWS_WITH(parse("%0 = input() {name=\"x\"} : f32[2] extra\n"),
                        "<ir>:1:34: expected the end of the line after the type, got 'extra'");
}

TEST_CASE("parse error: missing '=' after the node id") {
    REQUIRE_THROWS_WITH(parse("%0 input() {name=\"x\"} : f32[2]\n"),
                        "<ir>:1:4: expected '=' after the node id, got 'input'");
}

TEST_CASE("parse error: a line that is neither a node nor an output") {
    REQUIRE_THROWS_WITH(parse("return %0\n"),
                        "<ir>:1:1: expected '%id = op(...) : type' or 'output \"name\" = %id', got 'return'");
}

TEST_CASE("parse error: bad attribute values") {
    const std::string x = "%0 = input() {name=\"x\"} : f32[4]\n";
    REQUIRE_THROWS_WITH(
        parse(x + "%1 = leaky_relu(%0) {negative_slope=fast} : f32[4]\n"),
        Contains("<ir>:2:37: expected an attribute value (int, float, true/false, \"string\", "
                 "[ints] or a dtype), got 'fast'"));
    REQUIRE_THROWS_WITH(parse(x + "%1 = leaky_relu(%0) {negative_slope=1.5.2} : f32[4]\n"),
                        "<ir>:2:37: malformed number '1.5.2'");
    REQUIRE_THROWS_WITH(parse(x + "%1 = leaky_relu(%0) {negative_slope=1e} : f32[4]\n"),
                        "<ir>:2:37: malformed number '1e'");
    REQUIRE_THROWS_WITH(parse(x + "%1 = leaky_relu(%0) {negative_slope=1e999} : f32[4]\n"),
                        "<ir>:2:37: float 1e999 is out of the range of f64");
    REQUIRE_THROWS_WITH(parse(x + "%1 = softmax(%0) {dim=99999999999999999999} : f32[4]\n"),
                        "<ir>:2:23: integer 99999999999999999999 does not fit in 64 bits");
    REQUIRE_THROWS_WITH(parse(x + "%1 = reshape(%0) {shape=[2,2.0]} : f32[2,2]\n"),
                        "<ir>:2:28: expected an integer in the list, got '2.0'");
    REQUIRE_THROWS_WITH(parse(x + "%1 = reshape(%0) {shape=[2,2} : f32[2,2]\n"),
                        "<ir>:2:29: expected ']' after the list, got '}'");
    REQUIRE_THROWS_WITH(parse(x + "%1 = relu(%0) {} : f32[4]\n%2 = exp(%1) {: f32[4]\n"),
                        "<ir>:3:15: expected an attribute name, got ':'");
}

TEST_CASE("parse error: bad strings") {
    REQUIRE_THROWS_WITH(parse("%0 = input() {name=\"x} : f32[2]\n"),
                        "<ir>:1:20: unterminated string (missing the closing '\"')");
    REQUIRE_THROWS_WITH(parse("%0 = input() {name=\"a\\tb\"} : f32[2]\n"),
                        "<ir>:1:22: unknown escape in string (allowed: \\\" \\\\ \\n)");
}

TEST_CASE("parse error: two sources with the same name") {
    REQUIRE_THROWS_WITH(parse("%0 = input() {name=\"x\"} : f32[2]\n%1 = parameter() {name=\"x\"} : f32[3]\n"),
                        "<ir>:2:6: a source named \"x\" is defined already");
}

TEST_CASE("parse error: outputs") {
    const std::string x = "%0 = input() {name=\"x\"} : f32[2]\n";
    REQUIRE_THROWS_WITH(parse(x + "output \"y\" = %0\noutput \"y\" = %0\n"),
                        "<ir>:3:8: Program: an output named 'y' exists already");
    REQUIRE_THROWS_WITH(parse(x + "output y = %0\n"),
                        "<ir>:2:8: expected an output name in double quotes, got 'y'");
    REQUIRE_THROWS_WITH(parse(x + "output \"\" = %0\n"), "<ir>:2:8: an output name must not be empty");
    REQUIRE_THROWS_WITH(parse(x + "output \"y\" = %3\n"), Contains("<ir>:2:14: %3 is not defined"));
    REQUIRE_THROWS_WITH(parse(x + "output \"y\" = x\n"),
                        "<ir>:2:14: expected a node reference like %3, got 'x'");
}
