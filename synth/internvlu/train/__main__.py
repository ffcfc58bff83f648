"""``torchrun --nproc-per-node 8 -m synth.internvlu.train --config ... --data ... --out ...``"""

from synth.internvlu.train.launch import main

main()
