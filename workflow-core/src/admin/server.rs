//! The engine's end of the admin socket.

use std::path::{Path, PathBuf};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{UnixListener, UnixStream},
    task::{JoinHandle, JoinSet},
};

use super::{Reply, Request, SOCKET};
use crate::{engine::WeakEngine, Result};

/// The longest request line read.
const MAX_REQUEST: u64 = 64 * 1024;
/// How long a connection may take to send its request.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A running admin socket; dropping it stops serving and removes the socket file.
pub(crate) struct AdminServer {
    path: PathBuf,
    accept: JoinHandle<()>,
}

impl AdminServer {
    /// Serves the admin socket of `engine` in store folder `folder`, while the engine has a
    /// handle. A socket file left by a process that stopped is replaced: the caller holds the
    /// store's lock.
    pub(crate) fn start(folder: &Path, engine: WeakEngine) -> std::io::Result<AdminServer> {
        let path = folder.join(SOCKET);
        match std::fs::remove_file(&path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
        let listener = UnixListener::bind(&path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
        let accept = tokio::spawn(async move {
            // Connections end with the server: dropping this set aborts them.
            let mut connections = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => {
                            connections.spawn(answer(stream, engine.clone()));
                        }
                        Err(_) => break,
                    },
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
        });
        Ok(AdminServer { path, accept })
    }
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        self.accept.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Answers the one request of a connection. The engine is held only while a call runs, so
/// that a client never keeps a dropped engine open.
async fn answer(stream: UnixStream, engine: WeakEngine) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut reader = tokio::io::AsyncReadExt::take(BufReader::new(read), MAX_REQUEST);
    let read = tokio::time::timeout(REQUEST_TIMEOUT, reader.read_line(&mut line)).await;
    let reply = match read {
        Ok(Ok(_)) => match serde_json::from_str::<Request>(&line) {
            Ok(request) => handle(&engine, request, &mut write).await,
            Err(error) => Reply::Error(format!("not a request: {error}")),
        },
        Ok(Err(error)) => Reply::Error(format!("cannot read the request: {error}")),
        Err(_) => Reply::Error("no request came in time".to_string()),
    };
    let _ = send(&mut write, &reply).await;
}

async fn send(write: &mut (impl AsyncWriteExt + Unpin), reply: &Reply) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(reply).map_err(std::io::Error::other)?;
    line.push(b'\n');
    write.write_all(&line).await
}

async fn handle(
    engine: &WeakEngine,
    request: Request,
    write: &mut (impl AsyncWriteExt + Unpin),
) -> Reply {
    let Some(live) = engine.upgrade() else {
        return Reply::Error("the engine is closed".to_string());
    };
    let answer: Result<serde_json::Value> = match request {
        Request::ListPage { query } => live.list_page(&query).await.map(json),
        Request::Show { id } => live.metadata(&id).await.map(json),
        Request::Events { id } => live.waits(&id).await.map(json),
        Request::Stats => live.stats().await.map(json),
        Request::ProgressNow { id } => match live.progress(&id).await {
            Ok(progress) => Ok(json(*progress.borrow())),
            Err(error) => Err(error),
        },
        Request::Actors {
            type_name,
            after,
            limit,
        } => live
            .actors_page(type_name.as_deref(), after.as_deref(), limit)
            .await
            .map(json),
        Request::Actor { id } => live.actor_detail(&id).await.map(json),
        Request::Delete { id } => live.delete(&id).await.map(json),
        Request::Cancel { id } => match live.cancel(&id).await {
            Ok(()) => live.status(&id).await.map(json),
            Err(error) => Err(error),
        },
        Request::Progress { id } => {
            let progress = live.progress(&id).await;
            // The watch ends when the run ends or the engine stops; it holds no engine.
            drop(live);
            match progress {
                Ok(mut progress) => loop {
                    let now = *progress.borrow_and_update();
                    if send(write, &Reply::Progress(now)).await.is_err() {
                        return Reply::Error("the client left".to_string());
                    }
                    if progress.changed().await.is_err() {
                        break match engine.upgrade() {
                            Some(live) => live.status(&id).await.map(json),
                            None => Err(crate::Error::Closed),
                        };
                    }
                },
                Err(error) => Err(error),
            }
        }
    };
    match answer {
        Ok(value) => Reply::Ok(value),
        Err(crate::Error::NotFound { what, id }) => Reply::Missing {
            what: what.to_string(),
            id,
        },
        Err(crate::Error::StillRunning { id }) => Reply::StillRunning { id },
        Err(error) => Reply::Error(error.to_string()),
    }
}

fn json(value: impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}
