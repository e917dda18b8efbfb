#!/usr/bin/env bash
# Featurize a data set on a Slurm cluster: a job array, one shard per array task.
#   sbatch deploy/featurize-slurm-array.sh
# Task i runs `coca featurize --shard i/N` over the same input list (the same folder, sorted by name) and writes
# $OUT/part-IIIII-of-NNNNN.parquet. The files in name order are exactly the single-machine output. Resubmitting the
# array (or `sbatch --array=3,5 ...` for failed tasks) skips shards that are already complete.
# Then train from the folder of shards (streamed shard by shard, no encoder run):
#   coca train --model "$MODEL" --features "$OUT" --out classifier.zip
#SBATCH --job-name=coca-featurize
#SBATCH --array=0-7            # N = 8 shards: indices 0..N-1; keep SHARDS below equal to N
#SBATCH --cpus-per-task=4      # ONNX Runtime uses one thread per CPU the task may use (its affinity mask)
#SBATCH --mem=6G
#SBATCH --time=02:00:00
#SBATCH --output=coca-featurize-%A_%a.log
set -euo pipefail

SHARDS=${SHARDS:-8}
MODEL=${MODEL:-$HOME/models/coca_ViT-B-32}   # from `coca convert`
DATA=${DATA:-$HOME/data/train}               # a folder per class (or use --images for unlabelled inputs)
OUT=${OUT:-$HOME/features/train}             # on a file system every node sees

coca featurize --model "$MODEL" --data "$DATA" --format parquet --output tokens \
  --shard "${SLURM_ARRAY_TASK_ID}/${SHARDS}" --out "$OUT"
