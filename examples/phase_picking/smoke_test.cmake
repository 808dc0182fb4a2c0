# ctest: the phase-picking example's MiniSEED mode (phase_picking archive) cannot rot. A tiny synthetic archive (2 stations, 3
# minutes), one epoch, then every output is checked: the metrics JSON has the loss and each
# chosen metric for training and validation, the SVG is written, the C library is emitted; a
# second run resumes from the checkpoint, reuses the saved window indexes and trains nothing.
#   cmake -DPROGRAM=path/to/phase_picking -DWORKDIR=scratch/ -P smoke_test.cmake
file(REMOVE_RECURSE ${WORKDIR})
set(args archive --workdir ${WORKDIR} --stations 2 --minutes 3 --epochs 1 --batch 8 --threads 2
         --metrics ${WORKDIR}/metrics.json --plot ${WORKDIR}/metrics.svg --residuals ${WORKDIR}/residuals.svg --checkpoint ${WORKDIR}/run.safetensors)
execute_process(COMMAND ${PROGRAM} ${args} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE log)
message("${out}")
if(NOT status EQUAL 0)
  message(FATAL_ERROR "phase_picking exited with ${status}: ${log}")
endif()
file(READ ${WORKDIR}/metrics.json json)
string(JSON epochs LENGTH "${json}")
if(NOT epochs EQUAL 1)
  message(FATAL_ERROR "metrics.json: ${epochs} epochs, expected 1: ${json}")
endif()
foreach(key loss val_loss detection.binary_accuracy val_detection.binary_accuracy val_detection.f1/1
            val_p_pick.picking/within_tolerance val_p_pick.picking/mae val_s_pick.picking/within_tolerance)
  string(JSON value ERROR_VARIABLE missing GET "${json}" 0 ${key})
  if(missing OR value STREQUAL "null")
    message(FATAL_ERROR "metrics.json has no value for '${key}': ${json}")
  endif()
endforeach()
string(JSON loss GET "${json}" 0 loss)
if(NOT loss GREATER 0)
  message(FATAL_ERROR "metrics.json: the loss is ${loss}")
endif()
foreach(file metrics.svg residuals.svg picker/picker.a picker/picker.h run.safetensors archive picks.csv train-index.json)
  if(NOT EXISTS ${WORKDIR}/${file})
    message(FATAL_ERROR "phase_picking did not write ${WORKDIR}/${file}")
  endif()
endforeach()
file(READ ${WORKDIR}/metrics.svg svg)
if(NOT svg MATCHES "<svg" OR NOT svg MATCHES "val_loss")
  message(FATAL_ERROR "metrics.svg is not a plot of val_loss")
endif()
file(READ ${WORKDIR}/residuals.svg svg)
if(NOT svg MATCHES "P picks" OR NOT svg MATCHES "S picks")
  message(FATAL_ERROR "residuals.svg is not the P and S residual histogram")
endif()

# A malformed picks file is an error naming the file, the line and the field; nothing trains.
file(WRITE ${WORKDIR}/bad-picks.csv "network,station,phase,time\nXX,S01,P,2024-03-01T00:00:10Z\nXX,S01,P,yesterday\n")
execute_process(COMMAND ${PROGRAM} archive --data ${WORKDIR}/archive --picks ${WORKDIR}/bad-picks.csv --workdir ${WORKDIR}
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE log)
if(NOT status EQUAL 1 OR NOT log MATCHES "bad-picks.csv: line 3: time 'yesterday'; expected ISO 8601 UTC")
  message(FATAL_ERROR "a bad picks file: exit ${status}, '${log}'")
endif()
execute_process(COMMAND ${PROGRAM} archive --data ${WORKDIR}/archive --workdir ${WORKDIR}
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE log)
if(NOT status EQUAL 1 OR NOT log MATCHES "needs --picks FILE.csv")
  message(FATAL_ERROR "--data without --picks: exit ${status}, '${log}'")
endif()

# The saved run is complete: resuming it trains no more epochs, and the indexes are reused.
execute_process(COMMAND ${PROGRAM} archive --data ${WORKDIR}/archive --picks ${WORKDIR}/picks.csv --workdir ${WORKDIR}
                        --epochs 1 --batch 8 --threads 2 --emit "" --resume ${WORKDIR}/run.safetensors
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE log)
message("${out}")
if(NOT status EQUAL 0)
  message(FATAL_ERROR "phase_picking --resume exited with ${status}: ${log}")
endif()
if(NOT out MATCHES "saved window indexes reused")
  message(FATAL_ERROR "the second run did not reuse the saved window indexes")
endif()
message("phase picking smoke ok")
