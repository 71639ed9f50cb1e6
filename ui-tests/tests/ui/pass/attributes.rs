// version, hash, code, oneway, doc comments and lint attributes.
use binder_rt::{Result, binder_interface};
use binder_rt::binder_impl::{GET_INTERFACE_HASH_TRANSACTION, GET_INTERFACE_VERSION_TRANSACTION};

/// A versioned interface.
#[binder_interface(descriptor = "com.example.IVersioned", version = 7, hash = "2f3e9a0b")]
pub trait IVersioned {
    /// Pinned to the code it would have anyway.
    #[code(1)]
    #[deny(unused)]
    fn first(&self) -> Result<i32>;
    #[code(2)]
    fn second(&self) -> Result<i32>;
    /// Documented.
    #[allow(clippy::too_many_arguments)]
    fn documented(&self) -> Result<()>;
    #[oneway]
    #[code(100)]
    fn pinned_oneway(&self, value: i32) -> Result<()>;
    #[code(0x00FF_FFFD)]
    fn highest_free(&self) -> Result<()>;
}

#[binder_interface(version = 1, descriptor = "com.example.INotFrozen")]
trait INotFrozen {}

struct NotFrozen;
impl INotFrozen for NotFrozen {}

struct Versioned;
impl IVersioned for Versioned {
    fn documented(&self) -> Result<()> {
        Ok(())
    }
    fn pinned_oneway(&self, _value: i32) -> Result<()> {
        Ok(())
    }
    fn highest_free(&self) -> Result<()> {
        Ok(())
    }
    fn first(&self) -> Result<i32> {
        Ok(1)
    }
    fn second(&self) -> Result<i32> {
        Ok(2)
    }
}

const _: () = {
    assert!(BnVersioned::TRANSACTION_FIRST == 1);
    assert!(BnVersioned::TRANSACTION_SECOND == 2);
    assert!(BnVersioned::TRANSACTION_DOCUMENTED == 3);
    assert!(BnVersioned::TRANSACTION_PINNED_ONEWAY == 100);
    assert!(BnVersioned::TRANSACTION_HIGHEST_FREE == 0x00FF_FFFD);
    assert!(BnVersioned::VERSION == 7);
    assert!(GET_INTERFACE_VERSION_TRANSACTION == 0x00FF_FFFF);
    assert!(GET_INTERFACE_HASH_TRANSACTION == 0x00FF_FFFE);
};

fn main() {
    let versioned = BnVersioned::new_binder(Versioned);
    assert_eq!(versioned.interface_version().unwrap(), 7);
    assert_eq!(versioned.interface_hash().unwrap(), "2f3e9a0b");
    assert_eq!(BnVersioned::HASH, "2f3e9a0b");
    let not_frozen = BnNotFrozen::new_binder(NotFrozen);
    assert_eq!(not_frozen.interface_hash().unwrap(), "notfrozen");
    let proxy = BpVersioned::from_binder(versioned.as_binder());
    assert_eq!(proxy.interface_version().unwrap(), 7);
    assert_eq!(proxy.first().unwrap(), 1);
    assert_eq!(proxy.second().unwrap(), 2);
}
