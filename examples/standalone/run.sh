#!/usr/bin/env bash
# Train LeNet-5 (1 epoch), emit it as a C library, build the C99 classifier
# against it and run it on the Fashion-MNIST test set.
#   examples/standalone/run.sh [BUILD_DIR] [WORK_DIR]
set -euo pipefail
build="${1:-build}"
work="${2:-$(mktemp -d)}"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$work"
"$build/bin/fashion_mnist" --epochs 1 --checkpoint "$work/lenet.safetensors" > "$work/train.log" 2>&1
grep "final test accuracy" "$work/train.log"
"$build/bin/strata" emit "$work/lenet.safetensors" --out "$work/lib" --batch 1 --name lenet
cc -std=c99 -O2 "$here/classify.c" -I "$work/lib" "$work/lib/lenet.a" -lpthread -ldl -lm -o "$work/classify"
ls -l "$work/lib/lenet.a" | awk '{print "library size " $5 " bytes"}'
"$work/classify" | tee "$work/classify.log"
# The emitted library must classify exactly as the in-process model did.
jit=$(sed -n 's/^final test accuracy: //p' "$work/train.log")
c=$(sed -n 's/^accuracy \([0-9.]*\).*/\1/p' "$work/classify.log")
[ "$jit" = "$c" ] || { echo "MISMATCH: in-process accuracy $jit, emitted library $c"; exit 1; }
echo "same accuracy in process and in the C program: $c"
