# Sourced by the train.sh scripts: the srlkit files verl loads by path, and a verl launcher.
PYTHON="${PYTHON:-python}"
REWARD_FILE="$("$PYTHON" -c 'import srlkit.rewards.verl as m; print(m.__file__)')"
SAMPLER_FILE="$("$PYTHON" -c 'import srlkit.integrations.verl.sampler as m; print(m.__file__)' 2>/dev/null | tail -1)"

# export_once SOURCE OUT [srl data export options]: the parquet a recipe reads, written once.
export_once() {
  local source="$1" out="$2"; shift 2
  [ -e "$out/train.parquet" ] || "$PYTHON" -m srlkit.cli.main data export "$source" --format verl --out "$out" "$@"
}

# run_verl CONFIG_DIR CONFIG_NAME [hydra overrides]: verl's trainer with srlkit's reward and sampler.
run_verl() {
  local dir="$1" name="$2"; shift 2
  "$PYTHON" -m verl.trainer.main_ppo --config-path "$dir" --config-name "$name" \
    reward.custom_reward_function.path="$REWARD_FILE" \
    trainer.v1.sampler.custom_sampler.path="$SAMPLER_FILE" "$@"
}

# merge_latest RUN_DIR HF_DIR: verl's last FSDP checkpoint of a run -> a Hugging Face folder.
merge_latest() {
  local run="$1" target="$2" step
  step="$(cat "$run/latest_checkpointed_iteration.txt")"
  "$PYTHON" -m verl.model_merger merge --backend fsdp \
    --local_dir "$run/global_step_$step/actor" --target_dir "$target"
}
