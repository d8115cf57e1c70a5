"""Model helpers: the tiny locally built Qwen2-architecture model used by tests and the demo."""
