"""The pilot workflow: item statistics, reliability, EFA with parallel analysis, suggested cuts, timing.

:func:`analysis.pilot.pilot.pilot` analyses a pilot sample; :func:`analysis.pilot.report.write_pilot`
writes its tables and the self-contained report; :mod:`analysis.pilot.thresholds` holds the rules'
cut-offs with their sources (``smesurvey pilot``).
"""
