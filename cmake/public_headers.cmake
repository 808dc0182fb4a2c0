# The public API: the headers `make install` puts under <prefix>/include/strata/.
# A header is internal unless it is listed here (lowering, schedules, passes, the
# compile cache, the emitted C API...). Each keeps its place in the tree under strata/:
# ir/program.h installs as <strata/ir/program.h>, include/strata/error.h as <strata/error.h>.
#
# In the tree, headers include each other as "ir/program.h" (the source root is on the
# include path); installed, that would put generic folder names (ir/, codegen/, ...) on
# every consumer's include path. So the installed copies are staged at build time with
# those includes rewritten to <strata/...> (cmake/stage_public_headers.cmake), and a
# public header that includes an internal one stops the build, naming both.
set(STRATA_PUBLIC_HEADERS
  include/strata/strata.h
  include/strata/error.h
  include/strata/dtype.h
  include/strata/shape.h
  include/strata/stopwatch.h

  ir/program.h
  ir/node.h
  ir/op.h
  ir/ops.def
  ir/attrs.h
  ir/type.h
  ir/printer.h
  ir/parser.h
  ir/verifier.h

  runtime/tensor.h
  runtime/version.h
  runtime/generator.h
  runtime/random.h
  runtime/atomic_file.h
  runtime/fashion_mnist.h
  runtime/idx.h
  runtime/miniseed.h
  runtime/progress.h
  runtime/safetensors.h
  runtime/safetensors_dtype.h
  runtime/series_text.h
  runtime/svg_plot.h
  runtime/data/dataset.h
  runtime/data/example_layout.h
  runtime/data/epoch_order.h
  runtime/data/tensor_dataset.h
  runtime/data/loader.h
  runtime/data/raw_file_dataset.h
  runtime/data/hdf5_dataset.h
  runtime/data/segy_dataset.h
  runtime/data/transforms.h
  runtime/data/transforms/amplitude.h
  runtime/data/transforms/bandpass.h
  runtime/data/transforms/channel_drop.h
  runtime/data/transforms/compose.h
  runtime/data/transforms/detrend.h
  runtime/data/transforms/flip.h
  runtime/data/transforms/normalize.h
  runtime/data/transforms/taper.h
  runtime/data/transforms/window.h
  runtime/data/miniseed_dataset.h
  runtime/data/metadata_csv.h

  codegen/compiler.h
  codegen/schedule.h
  codegen/target.h
  codegen/aot.h
  codegen/device_code.h

  frontend/graph.h
  frontend/functional.h
  frontend/nn.h
  frontend/nn/activation.h
  frontend/nn/container.h
  frontend/nn/conv.h
  frontend/nn/dropout.h
  frontend/nn/flatten.h
  frontend/nn/init.h
  frontend/nn/linear.h
  frontend/nn/module.h
  frontend/nn/normalization.h
  frontend/nn/options.h
  frontend/nn/ordered_dict.h
  frontend/nn/pooling.h
  frontend/nn/upsample.h
  frontend/nn/state_dict.h
  frontend/optim/optimizer.h
  frontend/optim/sgd.h
  frontend/optim/adam.h
  frontend/optim/lr_scheduler.h
  frontend/train/checkpoint.h
  frontend/train/data_loader.h
  frontend/train/train_step.h
  frontend/train/trainer.h
  frontend/train/metrics.h
  frontend/train/callbacks.h
  frontend/train/named_batch.h
  frontend/train/history.h
  frontend/train/step_parts.h
  frontend/train/step_engine.h
  frontend/distributed/process_group.h
  frontend/distributed/distributed_train_step.h
  frontend/distributed/distributed_trainer.h
  frontend/debug/anomaly.h
  frontend/models/models.h)

# Stages the installed copies into ${CMAKE_BINARY_DIR}/public_include/strata/ (rebuilt
# when a public header changes) and installs that folder.
function(strata_install_public_headers)
  set(staged_dir ${CMAKE_BINARY_DIR}/public_include)
  set(stamp ${CMAKE_BINARY_DIR}/public_include.stamp)
  list(TRANSFORM STRATA_PUBLIC_HEADERS PREPEND ${PROJECT_SOURCE_DIR}/ OUTPUT_VARIABLE sources)
  string(REPLACE ";" "|" listed "${STRATA_PUBLIC_HEADERS}")
  add_custom_command(OUTPUT ${stamp}
    COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DOUT_DIR=${staged_dir} "-DHEADERS=${listed}"
            -P ${PROJECT_SOURCE_DIR}/cmake/stage_public_headers.cmake
    COMMAND ${CMAKE_COMMAND} -E touch ${stamp}
    DEPENDS ${sources} ${PROJECT_SOURCE_DIR}/cmake/stage_public_headers.cmake
            ${PROJECT_SOURCE_DIR}/cmake/public_headers.cmake
    COMMENT "Staging the public headers under <strata/...>" VERBATIM)
  add_custom_target(strata_public_headers ALL DEPENDS ${stamp})
  install(DIRECTORY ${staged_dir}/strata DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endfunction()
