"""After the report is analysed: the CI gate (`quality_gate`), the pull-request comment (`pr_markdown`,
`pr_comment`, `ci_environment`), exports for other tools (`exports`), the archive index (`archive_index`), the
comparison with a baseline checkpoint (`baseline_comparison`), training curves (`training_history`,
`tensorboard_events`), and `follow_ups`, which runs the CLI's optional outputs."""
