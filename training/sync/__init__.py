"""Lip-sync decisions in plain numpy, shared by the SyncNet detector and the lip-opening baseline.

``offsets`` (distance matrix -> offset and confidence, syncnet_python's rule), ``verdicts``
(track / fragment / file verdicts, threshold tuning, the report JSON), ``metrics`` (verdict
balanced accuracy, offset accuracy, inconclusive shares, ROC-AUC, per offset bucket) and
``plots`` (distance curves, confusion matrix).
"""
