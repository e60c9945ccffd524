//! Helpers shared by the broker's integration tests.
#![allow(dead_code)]

pub mod kafka;

use std::path::Path;

use brook_broker::{Broker, BrokerConfig};

/// A broker on a free loopback port with its data in `dir`; tests override what they need.
pub fn test_config(dir: &Path) -> BrokerConfig {
    BrokerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_path_buf(),
        ..BrokerConfig::default()
    }
}

/// Starts a broker with [`test_config`].
pub async fn start(dir: &Path) -> Broker {
    Broker::start(test_config(dir)).await.unwrap()
}
