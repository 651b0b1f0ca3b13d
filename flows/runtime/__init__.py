"""What the flows run on: task runners, deployments, the models resident in a worker, sharded
encoding, progress logging and the record of earlier runs."""
