#pragma once
// Small ONNX models written in tests with libonnx's generated classes (no python needed).

#include <onnx/onnx_pb.h>

#include <fstream>
#include <string>
#include <vector>

namespace strata::testing {

struct OnnxModelBuilder {
    ::onnx::ModelProto model;
    ::onnx::GraphProto &graph;

    explicit OnnxModelBuilder(int64_t opset = 13) : graph(*model.mutable_graph()) {
        model.set_ir_version(8);
        model.set_producer_name("strata-tests");
        auto *op = model.add_opset_import();
        op->set_domain("");
        op->set_version(opset);
        graph.set_name("test");
    }
    /// A FLOAT input; an extent of -1 is the symbolic dim "N".
    void input(const std::string &name, const std::vector<int64_t> &dims) { value_info(graph.add_input(), name, dims); }
    void output(const std::string &name, const std::vector<int64_t> &dims) { value_info(graph.add_output(), name, dims); }
    void initializer(const std::string &name, const std::vector<int64_t> &dims, const std::vector<float> &values) {
        auto *t = graph.add_initializer();
        t->set_name(name);
        t->set_data_type(::onnx::TensorProto::FLOAT);
        for (int64_t d : dims) t->add_dims(d);
        for (float v : values) t->add_float_data(v);
    }
    void int_initializer(const std::string &name, const std::vector<int64_t> &values) {
        auto *t = graph.add_initializer();
        t->set_name(name);
        t->set_data_type(::onnx::TensorProto::INT64);
        t->add_dims(static_cast<int64_t>(values.size()));
        for (int64_t v : values) t->add_int64_data(v);
    }
    ::onnx::NodeProto &node(const std::string &op, const std::vector<std::string> &inputs,
                            const std::vector<std::string> &outputs, const std::string &name = "") {
        auto *n = graph.add_node();
        n->set_op_type(op);
        n->set_name(name);
        for (const auto &i : inputs) n->add_input(i);
        for (const auto &o : outputs) n->add_output(o);
        return *n;
    }
    static void attr(::onnx::NodeProto &n, const std::string &name, int64_t v) {
        auto *a = n.add_attribute();
        a->set_name(name);
        a->set_type(::onnx::AttributeProto::INT);
        a->set_i(v);
    }
    static void attr(::onnx::NodeProto &n, const std::string &name, const std::string &v) {
        auto *a = n.add_attribute();
        a->set_name(name);
        a->set_type(::onnx::AttributeProto::STRING);
        a->set_s(v);
    }
    std::string save(const std::string &path) const {
        std::ofstream(path, std::ios::binary) << model.SerializeAsString();
        return path;
    }

private:
    static void value_info(::onnx::ValueInfoProto *v, const std::string &name, const std::vector<int64_t> &dims) {
        v->set_name(name);
        auto *t = v->mutable_type()->mutable_tensor_type();
        t->set_elem_type(::onnx::TensorProto::FLOAT);
        auto *shape = t->mutable_shape();
        for (int64_t d : dims) {
            if (d < 0) shape->add_dim()->set_dim_param("N");
            else shape->add_dim()->set_dim_value(d);
        }
    }
};

}  // namespace strata::testing
