// #[derive(Parcelable)] on every supported shape, used in an interface.
use binder_rt::{Parcelable, Result, SpIBinder, binder_interface};

#[derive(Parcelable, Default)]
pub struct Named {
    pub id: i32,
    pub name: String,
    pub tags: Vec<String>,
    pub nested: Option<Tuple>,
    pub kind: Kind,
    pub binder: Option<SpIBinder>,
}

#[derive(Parcelable, Default)]
pub struct Tuple(pub i64, pub Option<String>);

#[derive(Parcelable, Default)]
pub struct Unit;

#[derive(Parcelable, Default)]
pub struct Generic<T, U: Clone>
where
    T: Copy,
{
    pub value: T,
    pub list: Vec<U>,
    pub fixed: i32,
}

#[derive(Parcelable, Default, Clone, Copy)]
#[repr(i32)]
pub enum Kind {
    #[default]
    A,
    B = 5,
    C,
}

#[derive(Parcelable)]
#[repr(i8)]
pub enum Signed {
    Minus = -1,
    Zero,
}

#[derive(Parcelable)]
#[repr(u8)]
pub enum Byte {
    Low = 1,
    High = 255,
}

#[derive(Parcelable)]
#[repr(i64)]
pub enum Long {
    Big = i64::MAX,
    Small = i64::MIN,
}

const BASE: i32 = 40;

#[derive(Parcelable)]
#[repr(i32)]
pub enum WithConst {
    Base = BASE,
    Next,
}

#[derive(Parcelable)]
pub enum Union {
    Number(i32),
    Text(String),
    Struct(Named),
    Binder(Option<SpIBinder>),
}

#[derive(Parcelable)]
pub enum GenericUnion<T> {
    One(T),
    Many(Vec<T>),
}

#[binder_interface(descriptor = "com.example.IParcelables")]
pub trait IParcelables {
    fn structs(&self, named: Named, tuple: &Tuple, unit: Unit) -> Result<(Named, Tuple, Unit)>;
    fn generic(&self, g: Generic<i32, String>) -> Result<Generic<u8, Vec<i64>>>;
    fn enums(
        &self,
        kind: Kind,
        signed: &[Signed],
        bytes: Vec<Byte>,
        long: [Long; 2],
    ) -> Result<Vec<Kind>>;
    fn constants(&self, w: WithConst) -> Result<WithConst>;
    fn unions(
        &self,
        u: Union,
        list: Vec<Union>,
        nullable: Option<Union>,
    ) -> Result<GenericUnion<String>>;
}

fn main() {
    fn parcelable<T: Parcelable>() {}
    fn serializable<T: binder_rt::binder_impl::Serialize + binder_rt::binder_impl::Deserialize>() {}
    parcelable::<Named>();
    parcelable::<Generic<u8, String>>();
    parcelable::<GenericUnion<Named>>();
    serializable::<Kind>();
    serializable::<Vec<Byte>>();
    serializable::<Option<Union>>();
}
