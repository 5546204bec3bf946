"""Where the samples come from: image folders, train/val trees and CSV manifests found on disk (`discover`), each
file decoded into the mode the model wants (`decode`), data sources guessed from paths (`sources`) and
`--class-groups` files (`class_groups`). Nothing here runs a model or knows about analyses."""
