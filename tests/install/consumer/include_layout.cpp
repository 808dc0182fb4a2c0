// The installed package puts only <strata/...> on a consumer's include path: not
// the tree's generic folder names, and none of the internal headers.

#if __has_include("ir/program.h") || __has_include("codegen/compiler.h") || __has_include("runtime/tensor.h") || \
    __has_include("frontend/graph.h")
#error "a generic folder name (ir/, codegen/, runtime/, frontend/) is on the include path"
#endif

#if __has_include(<strata/codegen/lower/lower.h>) || __has_include(<strata/codegen/autoschedule.h>) || \
    __has_include(<strata/codegen/stage_schedule.h>) || __has_include(<strata/codegen/resolved_schedule.h>) || \
    __has_include(<strata/runtime/buffer_pool.h>) || __has_include(<strata/ir/passes/pipeline.h>)
#error "an internal header was installed"
#endif

#if !__has_include(<strata/strata.h>) || !__has_include(<strata/frontend/nn/conv.h>) || \
    !__has_include(<strata/ir/ops.def>)
#error "a public header is missing"
#endif
