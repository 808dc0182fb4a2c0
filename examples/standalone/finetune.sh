#!/usr/bin/env bash
# Emit LeNet-5's training step as a C library, build the C99 fine-tuning
# program against it and fine-tune for 400 steps on Fashion-MNIST.
#   examples/standalone/finetune.sh [BUILD_DIR] [WORK_DIR]
# WORK_DIR/lenet.safetensors is reused when run.sh made it; otherwise one epoch trains it.
set -euo pipefail
build="${1:-build}"
work="${2:-$(mktemp -d)}"
here="$(cd "$(dirname "$0")" && pwd)"
data="${STRATA_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}"
mkdir -p "$work"
[ -f "$work/lenet.safetensors" ] ||
  "$build/bin/fashion_mnist" --epochs 1 --checkpoint "$work/lenet.safetensors" > "$work/train.log" 2>&1
"$build/bin/strata" emit "$work/lenet.safetensors" --out "$work/lib-train" --batch 32 --name lenet_train --train --lr 0.01
cc -std=c99 -O2 "$here/finetune.c" -I "$work/lib-train" "$work/lib-train/lenet_train.a" -lpthread -ldl -lm \
  -o "$work/finetune"
ls -l "$work/lib-train/lenet_train.a" | awk '{print "training library size " $5 " bytes"}'
"$work/finetune" "$data" 400 "$work/tuned.safetensors" | tee "$work/finetune.log"
# Fine-tuning must lower the loss on the held-out test set.
before=$(sed -n 's/^before: test loss \([0-9.]*\).*/\1/p' "$work/finetune.log")
after=$(sed -n 's/^after: test loss \([0-9.]*\).*/\1/p' "$work/finetune.log")
awk -v b="$before" -v a="$after" 'BEGIN { exit !(a < b) }' ||
  { echo "FAILED: fine-tuning did not lower the test loss ($before -> $after)"; exit 1; }
echo "fine-tuning lowered the test loss: $before -> $after"
