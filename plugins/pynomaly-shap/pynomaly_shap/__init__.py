"""SHAP explainers for pynomaly: ``shap.kernel`` (any detector) and ``shap.tree`` (isolation forests).

Importing this package imports no SHAP: the explainer modules load it when an explainer is created.
"""
