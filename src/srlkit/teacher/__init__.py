"""Expert trajectories from a teacher model: ``srl data generate`` and ``srl data rewrite``.

The paper's expert data did not exist as numbered steps: a strong model rewrote every s1K
solution into ``1. **Title** action`` lines. This package automates that and the filtering
that must follow it:

- :mod:`~srlkit.teacher.prompts`: our two prompts (generate, rewrite), overridable from a file;
  their content hash is the prompt version that keys the cache.
- :mod:`~srlkit.teacher.teachers`: an OpenAI-compatible endpoint (official ``openai`` client),
  a local Hugging Face model, or vLLM offline, behind one small interface.
- :mod:`~srlkit.teacher.cache`: every response persisted as it arrives, so a killed run
  resumes without asking twice.
- :mod:`~srlkit.teacher.client`: bounded concurrency, retries with back-off, progress.
- :mod:`~srlkit.teacher.golds` and :mod:`~srlkit.teacher.verify`: which golds can be checked,
  and the filters (steps parse, answer right, rewrite faithful, duplicates, lengths).
- :mod:`~srlkit.teacher.run`: the two commands as library functions writing trajectories in
  the data contract plus a stats file.
"""
