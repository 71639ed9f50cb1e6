// Stub names, code constant names and visibility.
use binder_rt::Result;

mod private {
    use binder_rt::Result;

    #[binder_rt::binder_interface(descriptor = "com.example.Plain")]
    pub(crate) trait Plain {
        #[allow(non_snake_case)]
        fn getHTTPStatus(&self) -> Result<i32>;
        fn r#type(&self) -> Result<i32>;
        fn already_snake(&self) -> Result<i32>;
    }

    #[binder_rt::binder_interface(descriptor = "com.example.Interface")]
    trait Interface {}

    pub(crate) fn check() {
        // `Plain` → BnPlain; `Interface` (no uppercase after the I) → BnInterface.
        let _ = BnPlain::TRANSACTION_GET_HTTP_STATUS;
        let _ = BnPlain::TRANSACTION_TYPE;
        let _ = BnPlain::TRANSACTION_ALREADY_SNAKE;
        let _ = BnInterface::DESCRIPTOR;
    }
}

#[binder_rt::binder_interface(descriptor = "android.os.IServiceManager")]
pub trait IServiceManager: Send + Sync {
    fn is_declared(&self, name: &str) -> Result<bool>;
}

fn main() {
    private::check();
    let _ = private::BnPlain::DESCRIPTOR;
    let _ = BnServiceManager::TRANSACTION_IS_DECLARED;
    let _ = BpServiceManager::from_binder;
}
