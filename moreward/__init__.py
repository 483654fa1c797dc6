"""moreward: verifiers, shaped rewards and Pareto-aware combiners for RL of reasoning models."""

__version__ = "0.1.0"
