#include "ir/passes/fold_layout_chains.h"

#include "ir/passes/rebuild.h"

namespace strata::ir {

namespace {

const Node *fold_reshape(Rebuilder &b, const Node &old, const Node *x) {
    if (x->op == Op::reshape) x = x->input(0);  // only the last reshape's shape matters
    if (x->shape() == old.shape()) return x;
    return b.make(Op::reshape, {x}, old.attrs);
}

bool is_identity(const Ints &dims) {
    for (size_t i = 0; i < dims.size(); ++i)
        if (dims[i] != static_cast<int64_t>(i)) return false;
    return true;
}

const Node *fold_permute(Rebuilder &b, const Node &old, const Node *x) {
    Ints dims = old.attrs.get_ints("dims");
    if (x->op == Op::permute) {
        // permute(permute(y, inner), outer)[j] takes y's dim inner[outer[j]].
        const Ints &inner = x->attrs.get_ints("dims");
        for (int64_t &d : dims) d = inner[static_cast<size_t>(d)];
        x = x->input(0);
    }
    if (is_identity(dims)) return x;
    return b.make(Op::permute, {x}, Attrs{{"dims", dims}});
}

const Node *fold_slice(Rebuilder &b, const Node &old, const Node *x) {
    const Attrs &a = old.attrs;
    const int64_t extent = x->shape()[static_cast<size_t>(a.get_int("dim"))];
    if (a.get_int("start") == 0 && a.get_int("end") == extent && a.get_int("step") == 1) return x;
    return b.make(Op::slice, {x}, a);
}

const Node *fold(Rebuilder &b, const Node &old) {
    switch (old.op) {
    case Op::reshape: return fold_reshape(b, old, b.mapped(old.input(0)));
    case Op::permute: return fold_permute(b, old, b.mapped(old.input(0)));
    case Op::slice: return fold_slice(b, old, b.mapped(old.input(0)));
    case Op::expand: {
        const Node *x = b.mapped(old.input(0));
        return x->shape() == old.shape() ? x : b.copy(old);
    }
    default: return b.copy(old);
    }
}

}  // namespace

Program fold_layout_chains(const Program &program) { return rebuild(program, fold); }

}  // namespace strata::ir
