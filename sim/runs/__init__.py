"""Running batches: tasks, executors, the journal, traces, experiments, batches, their outputs and result folders."""
