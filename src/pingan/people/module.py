"""The people module (人员): the shared person record other modules link to."""

from pingan.registry import Module, NavEntry

MODULE = Module(
    name="people",
    label=("人员", "People"),
    api_routers=("pingan.people.routes:router",),
    page_routers=("pingan.people.pages:router",),
    navigation=(NavEntry(("人员", "People"), "/people", "person.read", 65),),
    models="pingan.people.models",
    audit_entities={
        "person": ("人员", "person"),
        "person_phone": ("人员电话", "person's phone"),
        "person_document": ("人员证件", "person's document"),
    },
)
