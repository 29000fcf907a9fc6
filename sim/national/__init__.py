"""Every commissioner in England in one batch: areas, one task per area, the batch and its tables."""
