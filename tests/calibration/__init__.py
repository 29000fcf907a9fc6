"""Calibration to the returns: the bundled scenarios' targets, calibrate and national."""
