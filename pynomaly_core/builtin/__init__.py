"""The built-in plugin: NumPy-only detectors, loaders, a drift test and an explainer."""
