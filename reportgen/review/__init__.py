"""After the report is analysed: the CI gate (`quality_gate`), the pull-request comment (`pr_markdown`,
`class_regressions`, `pr_comment`, `ci_environment`), exports for other tools (`exports`), the archive index
(`archive_index`, `archive_reading`), two reports compared from their JSON (`report_diff`, `diff_page`), the
comparison with a baseline checkpoint (`baseline_comparison`), training curves (`training_history`,
`tensorboard_events`), and `follow_ups`, which runs the CLI's optional outputs."""
