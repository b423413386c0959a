"""codearts-gate: a quality gate for Huawei Cloud CodeArts Check."""

__version__ = "0.1.0"
