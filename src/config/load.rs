//! Reading `config/config.yml` and the environment into [`super::Settings`] (under construction).
