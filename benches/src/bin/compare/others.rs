//! What users pick instead of binder-rs, each used the way its documentation shows: tarpc over
//! a Unix socket (bincode), ipc-channel (bytes channels), and rsbinder's RPC binder over a Unix
//! socket (binder without a kernel driver, two copies).

use std::path::Path;

use futures::{StreamExt, future};
use ipc_channel::ipc::{
    self, IpcBytesReceiver, IpcBytesSender, IpcOneShotServer, IpcReceiver, IpcSender,
};
use serde_bytes::ByteBuf;
use tarpc::server::{BaseChannel, Channel};
use tarpc::tokio_serde::formats::Bincode;

use crate::measure::{Link, answer};

// ---- tarpc ------------------------------------------------------------------------------------

#[tarpc::service]
pub trait TarpcBench {
    /// Answers [`answer`] of `data`.
    async fn send(data: ByteBuf) -> u64;
}

#[derive(Clone)]
struct TarpcServer;

impl TarpcBench for TarpcServer {
    async fn send(self, _: tarpc::context::Context, data: ByteBuf) -> u64 {
        answer(&data)
    }
}

fn runtime(multi_thread: bool) -> Result<tokio::runtime::Runtime, String> {
    let mut b = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    b.enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))
}

/// tarpc's server on a multi-threaded tokio runtime, one task per connection and per request.
pub fn serve_tarpc(path: &Path) -> Result<(), String> {
    runtime(true)?.block_on(async {
        let mut incoming = tarpc::serde_transport::unix::listen(path, Bincode::default)
            .await
            .map_err(|e| format!("listen {path:?}: {e}"))?;
        incoming
            .config_mut()
            .max_frame_length(2 * crate::MAX_PAYLOAD);
        crate::ready(path.display());
        incoming
            .filter_map(|r| future::ready(r.ok()))
            .map(BaseChannel::with_defaults)
            .for_each(|channel| {
                tokio::spawn(channel.execute(TarpcServer.serve()).for_each(|f| async {
                    tokio::spawn(f);
                }));
                async {}
            })
            .await;
        Ok(())
    })
}

pub struct TarpcLink {
    rt: tokio::runtime::Runtime,
    client: TarpcBenchClient,
}

impl TarpcLink {
    pub fn connect(path: &str) -> Result<TarpcLink, String> {
        let rt = runtime(false)?;
        let client = rt.block_on(async {
            let mut connect = tarpc::serde_transport::unix::connect(path, Bincode::default);
            connect
                .config_mut()
                .max_frame_length(2 * crate::MAX_PAYLOAD);
            let transport = connect.await.map_err(|e| format!("connect {path}: {e}"))?;
            Ok::<_, String>(TarpcBenchClient::new(Default::default(), transport).spawn())
        })?;
        Ok(TarpcLink { rt, client })
    }
}

impl Link for TarpcLink {
    fn call(&mut self, payload: &[u8]) -> Result<u64, String> {
        // tarpc sends owned arguments: the request is a copy of the payload, as for its users.
        let request = ByteBuf::from(payload.to_vec());
        self.rt
            .block_on(self.client.send(tarpc::context::current(), request))
            .map_err(|e| format!("tarpc: {e}"))
    }
}

// ---- ipc-channel ------------------------------------------------------------------------------

type IpcBootstrap = (IpcBytesReceiver, IpcSender<u64>);

/// ipc-channel's server: a one-shot server that receives the client's request receiver and
/// answer sender.
pub fn serve_ipc_channel() -> Result<(), String> {
    let (server, name) =
        IpcOneShotServer::<IpcBootstrap>::new().map_err(|e| format!("ipc-channel: {e}"))?;
    crate::ready(&name);
    let (_, (requests, answers)) = server.accept().map_err(|e| format!("accept: {e}"))?;
    while let Ok(data) = requests.recv() {
        answers
            .send(answer(&data))
            .map_err(|e| format!("ipc-channel send: {e}"))?;
    }
    Ok(())
}

pub struct IpcChannelLink {
    requests: IpcBytesSender,
    answers: IpcReceiver<u64>,
}

impl IpcChannelLink {
    pub fn connect(name: &str) -> Result<IpcChannelLink, String> {
        let bootstrap = IpcSender::<IpcBootstrap>::connect(name.to_owned())
            .map_err(|e| format!("ipc-channel connect: {e}"))?;
        let (requests, requests_rx) = ipc::bytes_channel().map_err(|e| e.to_string())?;
        let (answers_tx, answers) = ipc::channel::<u64>().map_err(|e| e.to_string())?;
        bootstrap
            .send((requests_rx, answers_tx))
            .map_err(|e| format!("ipc-channel bootstrap: {e}"))?;
        Ok(IpcChannelLink { requests, answers })
    }
}

impl Link for IpcChannelLink {
    fn call(&mut self, payload: &[u8]) -> Result<u64, String> {
        self.requests
            .send(payload)
            .map_err(|e| format!("ipc-channel send: {e}"))?;
        self.answers
            .recv()
            .map_err(|e| format!("ipc-channel recv: {e:?}"))
    }
}

// ---- rsbinder ---------------------------------------------------------------------------------

#[rsbinder::interface(descriptor = "compare.IRsBench")]
pub trait IRsBench {
    fn send(&self, data: &[u8]) -> rsbinder::BinderResult<i64>;
}

struct RsBench;

impl rsbinder::Interface for RsBench {}

impl IRsBench for RsBench {
    fn send(&self, data: &[u8]) -> rsbinder::BinderResult<i64> {
        Ok(answer(data) as i64)
    }
}

const RSBINDER_SERVICE: &str = "compare.bench";

/// rsbinder's RPC binder server on a Unix socket.
pub fn serve_rsbinder_rpc(path: &Path) -> Result<(), String> {
    serve_rsbinder(rsbinder::Endpoint::unix(path), path)
}

/// rsbinder on a kernel binder device, registered with the device's service manager.
pub fn serve_rsbinder_kernel(device: &Path) -> Result<(), String> {
    serve_rsbinder(kernel_endpoint(&device.to_string_lossy()), device)
}

fn serve_rsbinder(endpoint: rsbinder::Endpoint, place: &Path) -> Result<(), String> {
    let server = rsbinder::serve(endpoint)
        .and_then(|s| s.add(RSBINDER_SERVICE, BnRsBench::new_binder(RsBench)))
        .map_err(|e| format!("rsbinder serve: {e:?}"))?;
    let guard = server.spawn().map_err(|e| format!("rsbinder run: {e:?}"))?;
    crate::ready(place.display());
    // The orchestrator ends this process when it is done.
    loop {
        std::thread::park();
        let _ = &guard;
    }
}

fn kernel_endpoint(device: &str) -> rsbinder::Endpoint {
    rsbinder::Endpoint::Kernel(rsbinder::entry::KernelEndpoint::default().with_driver(device))
}

pub struct RsbinderLink(rsbinder::Strong<dyn IRsBench>);

impl RsbinderLink {
    pub fn connect_rpc(path: &str) -> Result<RsbinderLink, String> {
        rsbinder::connect::<dyn IRsBench>(
            rsbinder::Endpoint::unix(path).with_service(RSBINDER_SERVICE),
        )
        .map(RsbinderLink)
        .map_err(|e| format!("rsbinder connect {path}: {e:?}"))
    }

    pub fn connect_kernel(device: &str) -> Result<RsbinderLink, String> {
        rsbinder::connect::<dyn IRsBench>(kernel_endpoint(device).with_service(RSBINDER_SERVICE))
            .map(RsbinderLink)
            .map_err(|e| format!("rsbinder connect {device}: {e:?}"))
    }
}

impl Link for RsbinderLink {
    fn call(&mut self, payload: &[u8]) -> Result<u64, String> {
        self.0
            .send(payload)
            .map(|v| v as u64)
            .map_err(|e| format!("rsbinder: {e:?}"))
    }
}
