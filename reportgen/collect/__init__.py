"""The one batched pass (`batched_pass`): each image decoded once, the model run once per batch, and everything
the analyses need kept per sample in `Collected` (logits, probabilities, loss, embeddings, thumbnails, small
pixels). Also the batch size (`batch_size`), what each image is read into (`dataset`), how a CPU's cores are split
between decoding and the forward (`core_split`) and the forward's chunk (`forward_chunks`), the inputs kept for the
gradient analyses (`kept_inputs`), the thumbnails (`thumbnails`) and torchrun sharding (`distributed`)."""
