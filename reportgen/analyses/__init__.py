"""The report's sections, in report order.

Adding a section: one module here with ID, TITLE, TEMPLATE, a Result dataclass (what the page shows, `json()`
for report.json, `findings()` for the digest) and `run(collected, *, <the inputs it needs>)`; one partial in
templates/ named TEMPLATE; one line in REGISTRY below. The runner (runner.py) passes each input by name."""

from __future__ import annotations

from reportgen.analyses import (
                                baseline,
                                calibration,
                                class_groups,
                                confusable_classes,
                                confusion,
                                duplicates,
                                hardest,
                                insides,
                                loss_vs_distance,
                                mislabels,
                                notes,
                                outliers,
                                predictions,
                                projection_view,
                                properties,
                                raw_vs_model,
                                reference,
                                saliency_maps,
                                sample_explorer,
                                skipped_files,
                                slices,
                                subpopulations,
                                summary,
                                train_vs_val,
                                training_curves,
)

REGISTRY = [summary, notes, baseline, training_curves, projection_view, sample_explorer, confusion, calibration,
            class_groups, hardest, mislabels, duplicates, outliers, confusable_classes, loss_vs_distance,
            subpopulations, slices, properties, raw_vs_model, train_vs_val, saliency_maps, insides, skipped_files]

# Images without labels: what needs no label (where the model puts them, how sure it is, how they compare with
# labelled data given as --reference, copies and outliers).
UNLABELLED_REGISTRY = [summary, notes, projection_view, sample_explorer, predictions, reference, duplicates, outliers,
                       properties, insides, skipped_files]
