"""The model: loading it from the formats people save (`load`), what input it wants (`input_spec`), the logits
in whatever its forward returns (`outputs`), and one adapter per format (`adapter`, `eager`, `exported`,
`scripted`, chosen in `formats`) that owns every hook, layer lookup and graph edit. Nothing outside this package
asks which format a model is."""
