# ctest: the import_pytorch example cannot rot. The committed PyTorch export is imported,
# fine-tuned for one epoch on a few synthetic windows, saved and emitted; the windows it wrote
# (labels as PyTorch's int64) come back through --data; bad inputs are errors that name them.
#   cmake -DPROGRAM=path/to/import_pytorch -DSTRATA=path/to/strata -DCC=cc -DWORKDIR=scratch/ -P smoke_test.cmake
file(REMOVE_RECURSE ${WORKDIR})
set(tiny --epochs 1 --examples 64 --batch 16 --threads 2)
execute_process(COMMAND ${PROGRAM} --workdir ${WORKDIR} ${tiny} --metrics ${WORKDIR}/metrics.json
                        --save-windows ${WORKDIR}/windows.safetensors
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE log)
message("${out}")
if(NOT status EQUAL 0)
  message(FATAL_ERROR "import_pytorch exited with ${status}: ${log}")
endif()
string(REGEX MATCH "held-out loss [0-9.]+" synthetic_loss "${out}")
# The parameters keep PyTorch's names; the model is evaluated as exported before fine-tuning.
if(NOT out MATCHES "conv2.weight conv2.bias conv3.weight conv3.bias head.weight head.bias"
   OR NOT out MATCHES "as exported from PyTorch: held-out loss [0-9.]+, accuracy [0-9.]+")
  message(FATAL_ERROR "import_pytorch did not report the imported parameters and their held-out loss")
endif()
file(READ ${WORKDIR}/metrics.json json)
foreach(key loss val_loss accuracy val_accuracy)
  string(JSON value ERROR_VARIABLE missing GET "${json}" 0 ${key})
  if(missing OR value STREQUAL "null")
    message(FATAL_ERROR "metrics.json has no value for '${key}': ${json}")
  endif()
endforeach()
foreach(file detector.safetensors detector/detector.a detector/detector.h windows.safetensors)
  if(NOT EXISTS ${WORKDIR}/${file})
    message(FATAL_ERROR "import_pytorch did not write ${WORKDIR}/${file}")
  endif()
endforeach()
file(READ ${WORKDIR}/detector/detector.h header)
if(NOT header MATCHES "detector_predict")
  message(FATAL_ERROR "detector.h declares no detector_predict")
endif()

# predict.c, built against the emitted library alone, classifies the probe window as the
# model did in process.
execute_process(COMMAND ${CC} -std=c99 -O2 ${CMAKE_CURRENT_LIST_DIR}/predict.c -I ${WORKDIR}/detector
                        ${WORKDIR}/detector/detector.a -lpthread -ldl -lm -o ${WORKDIR}/predict
                RESULT_VARIABLE status ERROR_VARIABLE log)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "predict.c did not build against the emitted library with '${CC}': ${status} ${log}")
endif()
execute_process(COMMAND ${WORKDIR}/predict RESULT_VARIABLE status OUTPUT_VARIABLE c_out ERROR_VARIABLE log)
string(REGEX MATCH "probe window: noise [0-9.]+ earthquake [0-9.]+" in_process "${out}")
string(STRIP "${c_out}" c_out)
message("in process: ${in_process}; emitted library: ${c_out}")
if(NOT status EQUAL 0 OR NOT in_process OR NOT c_out STREQUAL in_process)
  message(FATAL_ERROR "the emitted library gives '${c_out}' (exit ${status}), the model in process '${in_process}'")
endif()

# The checkpoint holds the program: `strata emit --train` adds the on-board training step.
execute_process(COMMAND ${STRATA} emit ${WORKDIR}/detector.safetensors --out ${WORKDIR}/trainable --name detector
                        --batch 1 --train
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE log)
if(NOT status EQUAL 0 OR NOT EXISTS ${WORKDIR}/trainable/detector.h)
  message(FATAL_ERROR "strata emit --train of the fine-tuned checkpoint: exit ${status}: ${out} ${log}")
endif()
file(READ ${WORKDIR}/trainable/detector.h header)
if(NOT header MATCHES "detector_train_step")
  message(FATAL_ERROR "strata emit --train wrote no detector_train_step")
endif()

# The user's-file path: the windows written above, labels stored as I64.
execute_process(COMMAND ${PROGRAM} --workdir ${WORKDIR}/from-file ${tiny} --emit "" --data ${WORKDIR}/windows.safetensors
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE log)
message("${out}")
if(NOT status EQUAL 0 OR NOT out MATCHES "windows.safetensors: 64 windows for fine-tuning, the last 16 held out")
  message(FATAL_ERROR "import_pytorch --data exited with ${status}: ${out} ${log}")
endif()
# The same windows, the same split: the imported model's held-out loss is the same number.
string(REGEX MATCH "held-out loss [0-9.]+" file_loss "${out}")
if(NOT synthetic_loss OR NOT file_loss STREQUAL synthetic_loss)
  message(FATAL_ERROR "held-out loss from the file '${file_loss}' differs from the synthetic run's '${synthetic_loss}'")
endif()

# Bad inputs: a file that is no ONNX model, a data file that is not safetensors.
file(WRITE ${WORKDIR}/not-a-model.onnx "not a model")
execute_process(COMMAND ${PROGRAM} --workdir ${WORKDIR}/bad ${tiny} --model ${WORKDIR}/not-a-model.onnx
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE log)
if(NOT status EQUAL 1 OR NOT log MATCHES "not-a-model.onnx")
  message(FATAL_ERROR "a bad model file: exit ${status}, '${log}'")
endif()
execute_process(COMMAND ${PROGRAM} --workdir ${WORKDIR}/bad ${tiny} --data ${WORKDIR}/not-a-model.onnx
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE log)
if(NOT status EQUAL 1 OR NOT log MATCHES "not-a-model.onnx")
  message(FATAL_ERROR "a bad data file: exit ${status}, '${log}'")
endif()
message("import_pytorch smoke ok")
