"""Ablation studies: train/test configs x seeds (:mod:`.runner`), statistics
with bootstrap intervals over validation videos (:mod:`.stats`) and reports
(:mod:`.report`).

Entry point: ``tools/analysis_tools/ablation.py``.
"""
