"""Generation backends: Hugging Face ``generate`` (batched, left-padded, CPU or GPU) and vLLM.

Why a tiny interface: the evaluation runner needs only "texts in, completions with token counts
out", so the same resume logic, scoring and reports serve both backends. Sampling settings are
passed explicitly and *replace* a model's shipped generation defaults (Qwen2.5 ships
``top_k=20, top_p=0.8, repetition_penalty=1.05``): the paper's "temperature 1.0" means plain
sampling, and HF and vLLM then draw from the same distribution.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from srlkit.io import DataError
from srlkit.models.reference import check_model_reference

logger = logging.getLogger(__name__)

FINISH_STOP = "stop"
FINISH_LENGTH = "length"


@dataclass(frozen=True)
class SamplingSettings:
    """How to decode. ``temperature == 0`` means greedy; ``top_k == 0`` disables top-k."""

    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    max_new_tokens: int = 4096
    seed: int = 0

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0


@dataclass(kw_only=True)
class BackendOptions:
    """Which generation backend an evaluation uses and how it is placed; shared by the
    ``srl eval`` and ``srl eval-steps`` configs (read by :func:`backend_for`)."""

    batch_size: int = field(default=16, metadata={"help": "sequences per HF generate call"})
    seed: int = field(default=0, metadata={"help": "seed of sampling"})
    backend: str = field(default="hf", metadata={"help": "generation backend: hf or vllm"})
    device: str = field(default="auto", metadata={"help": "HF backend: cpu, cuda, cuda:1 ..."})
    dtype: str = field(
        default="auto",
        metadata={"help": "bfloat16, float16, float32 (auto: bf16 on GPU, fp32 on CPU)"},
    )
    tensor_parallel_size: int = field(default=1, metadata={"help": "vLLM: GPUs per model"})
    gpu_memory_utilization: float = field(
        default=0.9, metadata={"help": "vLLM: share of GPU memory"}
    )
    max_model_len: int | None = field(
        default=None, metadata={"help": "vLLM: context length (default: the model's)"}
    )

    def __post_init__(self) -> None:
        if self.backend not in ("hf", "vllm"):
            raise ValueError(f"backend must be hf or vllm, got {self.backend!r}")


@dataclass
class Generation:
    """One completion: its text (end-of-sequence token excluded), its length, why it ended."""

    text: str
    num_tokens: int
    finish_reason: str


class Backend(Protocol):
    """Anything that turns rendered prompts into one completion each."""

    tokenizer: Any
    name: str
    chunk_size: int  # requests per call: the unit the runner flushes to disk

    def generate(self, prompts: list[str], settings: SamplingSettings) -> list[Generation]: ...


def _eos_ids(model: Any, tokenizer: Any) -> list[int]:
    ids = getattr(model.generation_config, "eos_token_id", None)
    ids = [ids] if isinstance(ids, int) else list(ids or [])
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in ids:
        ids.append(tokenizer.eos_token_id)
    return ids


class HFBackend:
    """Batched ``model.generate`` with left padding; one batch of ``batch_size`` per call.

    The model and tokenizer may be shared with a trainer (the demo evaluates between training
    stages), so neither is left changed: padding is chosen per call and the model's train/eval
    mode is restored after each batch. Only a missing pad token is set (to the EOS token).
    """

    name = "hf"

    def __init__(self, model: Any, tokenizer: Any, batch_size: int = 16):
        self.model = model
        self.tokenizer = tokenizer
        self.chunk_size = batch_size
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.eos_ids = _eos_ids(model, tokenizer)
        self.device = next(model.parameters()).device

    @classmethod
    def from_pretrained(
        cls,
        model: str,
        batch_size: int = 16,
        device: str = "auto",
        dtype: str = "auto",
        trust_remote_code: bool = False,
    ) -> HFBackend:
        """Load a model id or directory; ``device="auto"`` picks CUDA when present, ``dtype="auto"`` bf16 there."""
        import torch
        from transformers import AutoTokenizer

        from srlkit.models.adapters import load_causal_lm

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if dtype == "auto":
            torch_dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
        else:
            torch_dtype = getattr(torch, dtype)
        tokenizer = AutoTokenizer.from_pretrained(model, trust_remote_code=trust_remote_code)
        # a LoRA adapter folder loads onto its base, found from any working directory
        lm = load_causal_lm(model, dtype=torch_dtype, trust_remote_code=trust_remote_code)
        return cls(lm.to(device), tokenizer, batch_size=batch_size)

    def _generation_config(self, settings: SamplingSettings) -> Any:
        """A full generation config: every logits-shaping knob is set, so none is inherited.

        ``generate`` fills each field left unset (None) from the model's own
        ``generation_config.json``; an unset ``repetition_penalty`` would silently become
        Qwen2.5's 1.05, even for greedy decoding. Hence the explicit neutral values.
        """
        from transformers import GenerationConfig

        neutral = {
            "max_new_tokens": settings.max_new_tokens,
            "eos_token_id": self.eos_ids,
            "pad_token_id": self.tokenizer.pad_token_id,
            "num_beams": 1,
            "num_return_sequences": 1,
            "repetition_penalty": 1.0,
            "no_repeat_ngram_size": 0,
            "typical_p": 1.0,
            "epsilon_cutoff": 0.0,
            "eta_cutoff": 0.0,
        }
        if settings.greedy:  # sampling warpers (temperature, top-k/p, min-p) are not applied
            return GenerationConfig(do_sample=False, **neutral)
        return GenerationConfig(
            do_sample=True,
            temperature=settings.temperature,
            top_p=settings.top_p,
            top_k=settings.top_k,
            min_p=0.0,
            **neutral,
        )

    def generate(self, prompts: list[str], settings: SamplingSettings) -> list[Generation]:
        import torch

        bos = self.tokenizer.bos_token
        add_special = bool(bos) and not all(p.startswith(bos) for p in prompts)
        # Left padding: a decoder-only model must continue right after each prompt.
        enc = self.tokenizer(
            prompts,
            return_tensors="pt",
            padding=True,
            padding_side="left",
            add_special_tokens=add_special,
        )
        enc = {k: v.to(self.device) for k, v in enc.items()}
        torch.manual_seed(settings.seed)
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.inference_mode():
                out = self.model.generate(
                    **enc, generation_config=self._generation_config(settings)
                )
        finally:
            self.model.train(was_training)
        new_tokens = out[:, enc["input_ids"].shape[1] :].tolist()
        return [self._to_generation(row) for row in new_tokens]

    def _to_generation(self, ids: list[int]) -> Generation:
        """Cut a generated row at its first end-of-sequence token; the padding after it is not output."""
        for i, tok in enumerate(ids):
            if tok in self.eos_ids:
                text = self.tokenizer.decode(ids[:i], skip_special_tokens=False)
                return Generation(text, i + 1, FINISH_STOP)
        return Generation(
            self.tokenizer.decode(ids, skip_special_tokens=False), len(ids), FINISH_LENGTH
        )


class VLLMBackend:
    """vLLM offline inference; imported only when chosen, with a clear message when missing."""

    name = "vllm"

    def __init__(
        self,
        model: str,
        seed: int = 0,
        tensor_parallel_size: int = 1,
        gpu_memory_utilization: float = 0.9,
        dtype: str = "auto",
        max_model_len: int | None = None,
        chunk_size: int = 1024,
    ):
        try:
            from vllm import LLM
        except ImportError as exc:
            raise ImportError(
                "the vLLM backend needs the vllm package: pip install 'srlkit[vllm]' (or use --backend hf)"
            ) from exc
        # One engine-wide seed: a per-request seed would make the k repeats of a prompt identical.
        self.llm = LLM(
            model=model,
            seed=seed,
            tensor_parallel_size=tensor_parallel_size,
            gpu_memory_utilization=gpu_memory_utilization,
            dtype=dtype,
            max_model_len=max_model_len,
        )
        self.tokenizer = self.llm.get_tokenizer()
        self.chunk_size = chunk_size

    def generate(self, prompts: list[str], settings: SamplingSettings) -> list[Generation]:
        from vllm import SamplingParams

        params = SamplingParams(
            temperature=settings.temperature,
            top_p=1.0 if settings.greedy else settings.top_p,
            top_k=-1 if settings.greedy or settings.top_k <= 0 else settings.top_k,
            max_tokens=settings.max_new_tokens,
            skip_special_tokens=False,
        )
        results = self.llm.generate(prompts, params, use_tqdm=False)
        gens = []
        for res in results:
            out = res.outputs[0]
            reason = FINISH_LENGTH if out.finish_reason == "length" else FINISH_STOP
            gens.append(Generation(out.text, len(out.token_ids), reason))
        return gens


def load_backend(
    name: str,
    model: str,
    batch_size: int = 16,
    device: str = "auto",
    dtype: str = "auto",
    seed: int = 0,
    **vllm_kwargs: Any,
) -> Backend:
    """Build the backend called ``name`` (``hf`` or ``vllm``) for ``model``.

    A model that is neither a model folder nor loadable from the hub is a one-line
    :class:`~srlkit.io.DataError` naming it, not "couldn't connect to huggingface.co".
    """
    check_model_reference(model, "the model argument")
    if name == "hf":
        try:
            return HFBackend.from_pretrained(
                model, batch_size=batch_size, device=device, dtype=dtype
            )
        except OSError as err:
            raise DataError(
                model,
                f"not a local model folder, and not loadable from the hub ({str(err).splitlines()[0][:160]})",
            ) from None
    if name == "vllm":
        return VLLMBackend(model, seed=seed, dtype=dtype, **vllm_kwargs)
    raise ValueError(f"unknown backend {name!r}: expected 'hf' or 'vllm'")


def backend_for(config: BackendOptions) -> Backend:
    """The backend an evaluation config asks for (``srl eval`` and ``srl eval-steps`` share this)."""
    vllm_kwargs = {}
    if config.backend == "vllm":
        vllm_kwargs = {
            "tensor_parallel_size": config.tensor_parallel_size,
            "gpu_memory_utilization": config.gpu_memory_utilization,
            "max_model_len": config.max_model_len,
        }
    return load_backend(
        config.backend,
        config.model,
        config.batch_size,
        config.device,
        config.dtype,
        config.seed,
        **vllm_kwargs,
    )
