//! File-drop transport: one file per delivery in `<outbox>/<channel>/`, written atomically
//! (temporary file, fsync, rename, fsync of the directory). The name is fixed per delivery,
//! so a retry after a crash replaces the file instead of adding a second one.

use async_trait::async_trait;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{ChannelError, OutboundMessage, Receipt, Transport};

pub struct FileDrop {
    outbox: PathBuf,
}

impl FileDrop {
    pub fn new(outbox: PathBuf) -> Self {
        Self { outbox }
    }

    /// `<letter id>_<delivery id>.<ext>`: the letter id first, so a person can find it.
    pub fn file_name(message: &OutboundMessage) -> String {
        format!("{}_{}.{}", message.letter_id, message.delivery_id, message.extension)
    }
}

#[async_trait]
impl Transport for FileDrop {
    async fn send(&self, message: &OutboundMessage) -> Result<Receipt, ChannelError> {
        let dir = self.outbox.join(message.channel.as_str());
        let name = Self::file_name(message);
        let bytes = message.bytes.clone();
        let path = dir.join(&name);
        tokio::task::spawn_blocking(move || write_atomically(&dir, &path, &bytes))
            .await
            .map_err(|e| ChannelError::Transient(format!("file drop task failed: {e}")))?
            .map_err(|e| ChannelError::Transient(format!("file drop {}: {e}", name)))?;
        Ok(Receipt {
            transport: "file_drop",
            provider_ref: Some(format!("{}/{name}", message.channel)),
            confirmed: true,
        })
    }
}

fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp_dir = dir.join(".tmp");
    std::fs::create_dir_all(&tmp_dir)?;
    let tmp = tmp_dir.join(format!("{}.{}", uuid::Uuid::new_v4(), "part"));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ChannelKind;
    use uuid::Uuid;

    #[tokio::test]
    async fn writes_one_file_per_delivery_even_when_sent_twice() {
        let root = std::env::temp_dir().join(format!("bb-drop-{}", Uuid::new_v4()));
        let drop = FileDrop::new(root.clone());
        let message = OutboundMessage {
            channel: ChannelKind::Print,
            letter_id: Uuid::now_v7(),
            delivery_id: Uuid::now_v7(),
            extension: "json",
            bytes: b"{}".to_vec(),
            recipient: None,
        };
        drop.send(&message).await.unwrap();
        drop.send(&message).await.unwrap();
        let dir = root.join("print");
        let files: Vec<_> =
            std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()).filter(|e| e.path().is_file()).collect();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].file_name().to_string_lossy(), FileDrop::file_name(&message));
        assert_eq!(std::fs::read_dir(dir.join(".tmp")).unwrap().count(), 0);
        std::fs::remove_dir_all(root).unwrap();
    }
}
