//! The environment the CloudWatch tests run the binary in: a user with credentials, and
//! nothing of this machine's AWS configuration (no profile, config or credentials files, no
//! instance metadata).

use std::process::Command;

/// Variables set.
pub const SET: [(&str, &str); 6] = [
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_REGION", "us-east-1"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
    ("AWS_CONFIG_FILE", "/nonexistent/aws-config"),
    ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials"),
];

/// Variables removed.
pub const REMOVED: [&str; 2] = ["AWS_PROFILE", "AWS_SESSION_TOKEN"];

/// `cmd` with [`SET`] set and [`REMOVED`] removed.
pub fn aws_env(cmd: &mut Command) -> &mut Command {
    for (k, v) in SET {
        cmd.env(k, v);
    }
    for k in REMOVED {
        cmd.env_remove(k);
    }
    cmd
}
