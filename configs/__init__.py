"""The shipped defaults: one YAML per pipeline, ``configs/<pipeline>.yaml``.

A package (not a plain folder) so that the wheel carries the YAML as package data and
``importlib.resources`` finds it in an installed copy exactly where a checkout has it; read it with
``synth.config.default_config_path(name)``, or copy one and pass ``--config my.yaml``.
"""
