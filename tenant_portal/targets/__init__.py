"""Targets and the target tracker: progress, pace needed, forecast, a chart over time; publishing a target."""
