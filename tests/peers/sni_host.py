#!/usr/bin/env python3
"""Test helper: a minimal tray host and notification server on the D-Bus session bus, driven
by tests/tray_dbus.rs, so the real app's tray menu can be read and clicked without a desktop.

  sni_host.py serve STATE_FILE
      Owns org.kde.StatusNotifierWatcher (tray icons register with it) and
      org.freedesktop.Notifications (records every notification). Writes
      {"items": [[bus_name, object_path], ...], "notifications": [{"summary", "body"}, ...]}
      to STATE_FILE after every change, the first time once both names are owned.
  sni_host.py layout STATE_FILE
      Prints the menu of the first registered item as JSON, read over com.canonical.dbusmenu
      (GetLayout): {"id", "label", "enabled", "type", "children": [...]}.
  sni_host.py click STATE_FILE LABEL [LABEL...]
      Finds the menu item by its path of labels (a submenu's label, then the item's) and
      sends it the dbusmenu "clicked" event, as a tray host does on a click.
"""
import asyncio
import json
import sys
import time

from dbus_next import Message, MessageType, Variant
from dbus_next.aio import MessageBus

WATCHER = "org.kde.StatusNotifierWatcher"
NOTIFICATIONS = "org.freedesktop.Notifications"
INTROSPECT = """<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd"><node/>"""


async def serve(state_file):
    bus = await MessageBus().connect()
    state = {"items": [], "notifications": []}
    next_id = [0]

    def save():
        with open(state_file + ".tmp", "w") as f:
            json.dump(state, f)
        import os

        os.replace(state_file + ".tmp", state_file)

    def watcher_props():
        return {
            "RegisteredStatusNotifierItems": Variant("as", [f"{b}{p}" for b, p in state["items"]]),
            "IsStatusNotifierHostRegistered": Variant("b", True),
            "ProtocolVersion": Variant("i", 0),
        }

    def reply(msg, signature="", body=None):
        return Message.new_method_return(msg, signature, body or [])

    def handler(msg):
        if msg.message_type != MessageType.METHOD_CALL:
            return None
        iface, member = msg.interface, msg.member
        if member == "Introspect":
            return reply(msg, "s", [INTROSPECT])
        if iface == WATCHER and member == "RegisterStatusNotifierItem":
            service = msg.body[0]
            # libappindicator passes its object path; others pass a bus name.
            item = [msg.sender, service] if service.startswith("/") else [service, "/StatusNotifierItem"]
            if item not in state["items"]:
                state["items"].append(item)
                save()
            bus.send(Message.new_signal("/StatusNotifierWatcher", WATCHER, "StatusNotifierItemRegistered", "s", [service]))
            return reply(msg)
        if iface == WATCHER and member == "RegisterStatusNotifierHost":
            return reply(msg)
        if iface == "org.freedesktop.DBus.Properties" and msg.path == "/StatusNotifierWatcher":
            props = watcher_props()
            if member == "Get":
                return reply(msg, "v", [props.get(msg.body[1], Variant("s", ""))])
            if member == "GetAll":
                return reply(msg, "a{sv}", [props])
        if iface == NOTIFICATIONS:
            if member == "Notify":
                _app, _replaces, _icon, summary, body = msg.body[:5]
                state["notifications"].append({"summary": summary, "body": body})
                save()
                next_id[0] += 1
                return reply(msg, "u", [next_id[0]])
            if member == "GetCapabilities":
                return reply(msg, "as", [["body"]])
            if member == "GetServerInformation":
                return reply(msg, "ssss", ["sni_host", "skydeck-tests", "1", "1.2"])
            if member == "CloseNotification":
                return reply(msg)
        return None

    bus.add_message_handler(handler)
    for name in (WATCHER, NOTIFICATIONS):
        await bus.request_name(name)
    save()
    await asyncio.get_running_loop().create_future()


async def call(bus, dest, path, iface, member, signature="", body=None):
    reply = await bus.call(
        Message(destination=dest, path=path, interface=iface, member=member, signature=signature, body=body or [])
    )
    if reply.message_type == MessageType.ERROR:
        raise SystemExit(f"{member} failed: {reply.error_name} {reply.body}")
    return reply.body


def plain(v):
    return v.value if isinstance(v, Variant) else v


def tree(node):
    item_id, props, children = node
    props = {k: plain(v) for k, v in props.items()}
    return {
        "id": item_id,
        "label": props.get("label", ""),
        "enabled": props.get("enabled", True),
        "visible": props.get("visible", True),
        "type": props.get("type", "standard"),
        "children": [tree(plain(c)) for c in children],
    }


async def menu_of(state_file):
    with open(state_file) as f:
        state = json.load(f)
    if not state["items"]:
        raise SystemExit("no tray item registered")
    bus_name, path = state["items"][0]
    bus = await MessageBus().connect()
    [menu] = await call(bus, bus_name, path, "org.freedesktop.DBus.Properties", "Get", "ss", ["org.kde.StatusNotifierItem", "Menu"])
    return bus, bus_name, menu.value


async def layout(state_file):
    bus, name, menu = await menu_of(state_file)
    _rev, root = await call(bus, name, menu, "com.canonical.dbusmenu", "GetLayout", "iias", [0, -1, []])
    return tree(root)


async def click(state_file, labels):
    bus, name, menu = await menu_of(state_file)
    _rev, root = await call(bus, name, menu, "com.canonical.dbusmenu", "GetLayout", "iias", [0, -1, []])
    node = tree(root)
    for label in labels:
        if node["id"] != 0:
            # Hosts announce a submenu before showing it; dbusmenu-gtk fills it in then.
            await call(bus, name, menu, "com.canonical.dbusmenu", "AboutToShow", "i", [node["id"]])
        match = [c for c in node["children"] if label in (c["label"], c["label"].replace("_", "")) and c["visible"]]
        if not match:
            raise SystemExit(f"no menu item {label!r} among {[c['label'] for c in node['children']]}")
        node = match[0]
    await call(bus, name, menu, "com.canonical.dbusmenu", "Event", "isvu", [node["id"], "clicked", Variant("i", 0), int(time.time())])
    return node


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "serve":
        asyncio.run(serve(args[0]))
    elif cmd == "layout":
        print(json.dumps(asyncio.run(layout(args[0]))))
    elif cmd == "click":
        print(json.dumps(asyncio.run(click(args[0], args[1:]))))
    else:
        sys.exit(f"unknown command {cmd}")
