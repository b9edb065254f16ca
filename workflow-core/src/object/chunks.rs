//! Objects cut into chunks for storage, and read back as one stream.

use tokio::sync::mpsc;

use super::space::CHUNK;
use crate::{Error, Result};

/// Reads an object's chunks, as the async side fetches them, for a blocking decoder.
pub(super) struct ChunkReader {
    pub(super) receiver: mpsc::Receiver<Result<Vec<u8>>>,
    pub(super) chunk: Vec<u8>,
    pub(super) at: usize,
    pub(super) read: u64,
    pub(super) error: Option<Error>,
}

impl std::io::Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.chunk.len() {
            match self.receiver.blocking_recv() {
                Some(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                Some(Err(error)) => {
                    self.error = Some(error);
                    return Err(std::io::Error::other("a chunk could not be read"));
                }
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.chunk.len() - self.at);
        out[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        self.read += n as u64;
        Ok(n)
    }
}

/// Cuts an encoding into chunks and hands them to the async side.
pub(super) struct ChunkWriter {
    pub(super) buffer: Vec<u8>,
    pub(super) sender: mpsc::Sender<Vec<u8>>,
    pub(super) len: u64,
}

impl ChunkWriter {
    fn flush_chunk(&mut self) -> std::io::Result<()> {
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK));
        self.sender
            .blocking_send(chunk)
            .map_err(|_| std::io::Error::other("the object store stopped"))
    }

    pub(super) fn finish(mut self) -> Result<u64> {
        if !self.buffer.is_empty() || self.len == 0 {
            self.flush_chunk().map_err(|e| Error::Codec {
                message: e.to_string(),
            })?;
        }
        Ok(self.len)
    }
}

impl std::io::Write for ChunkWriter {
    fn write(&mut self, mut data: &[u8]) -> std::io::Result<usize> {
        let written = data.len();
        while !data.is_empty() {
            let room = CHUNK - self.buffer.len();
            let (now, rest) = data.split_at(room.min(data.len()));
            self.buffer.extend_from_slice(now);
            data = rest;
            if self.buffer.len() == CHUNK {
                self.flush_chunk()?;
            }
        }
        self.len += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
