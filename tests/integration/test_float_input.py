"""Floats from the wire: NaN and the infinities are refused wherever the API
takes a float (event.from's timeout, float fields through set_* and create),
over XML-RPC and JSON-RPC, as a FIELD_TYPE_ERROR naming the parameter; the
daemon stays up (an event.from with a NaN timeout was undefined behaviour:
UBSan aborted the host build)."""
import http.client

import pytest

from conftest import fails, ok
from test_api import new_vm

NONFINITE_XML = ["nan", "-nan", "inf", "-inf"]
# strings that strtod turns into non-finite numbers
NONFINITE_STR = ["nan", "NaN", "inf", "-Infinity", "1e999", "-1e400"]


def xml_call(daemon, method, params):
    body = ("<?xml version='1.0'?><methodCall><methodName>%s</methodName><params>%s"
            "</params></methodCall>" % (method, "".join(
                "<param><value>%s</value></param>" % p for p in params)))
    r, data = daemon.raw("POST", "/", body.encode(), {"Content-Type": "text/xml"})
    assert r.status == 200, data
    import xmlrpc.client
    (res,), _ = xmlrpc.client.loads(data)
    return res


def s(v):
    return "<string>%s</string>" % v


def array(*items):
    return "<array><data>%s</data></array>" % "".join("<value>%s</value>" % i for i in items)


@pytest.mark.parametrize("d", NONFINITE_XML)
def test_event_from_nonfinite_timeout_xmlrpc(daemon, d):
    p, sess = daemon.login()
    # a current token: nothing to report, so the call would wait
    tok = ok(p.event.__getattr__("from")(sess, ["vm"], "", 0.0))["token"]
    r = xml_call(daemon, "event.from", [s(sess), array(s("vm")), s(tok),
                                       "<double>%s</double>" % d])
    fails(r, "FIELD_TYPE_ERROR", "timeout")
    # the daemon is up and the same call with a finite timeout works
    ev = ok(p.event.__getattr__("from")(sess, ["vm"], "", 0.0))
    assert "token" in ev


@pytest.mark.parametrize("v", NONFINITE_STR)
def test_event_from_nonfinite_timeout_as_string(daemon, v):
    p, sess = daemon.login()
    tok = ok(p.event.__getattr__("from")(sess, ["vm"], "", 0.0))["token"]
    fails(p.event.__getattr__("from")(sess, ["vm"], tok, v), "FIELD_TYPE_ERROR", "timeout")


def test_event_from_huge_timeouts(daemon):
    """Huge finite timeouts are clamped (XAPI waits at most an hour), huge
    negative ones answer at once: no float-to-int overflow either way."""
    p, sess = daemon.login()
    tok = ok(p.event.__getattr__("from")(sess, ["vm"], "", 0.0))["token"]
    vm = new_vm(p, sess)
    for t in (-1e308, -1.7976931348623157e308, "-1e300"):
        ev = ok(p.event.__getattr__("from")(sess, ["vm"], tok, t))
        assert any(e["ref"] == vm for e in ev["events"])
    # a waiting call with a huge timeout is woken by a change
    c = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=30)
    body = ("<?xml version='1.0'?><methodCall><methodName>event.from</methodName><params>"
            "<param><value>%s</value></param><param><value>%s</value></param>"
            "<param><value>%s</value></param><param><value><double>1e308</double>"
            "</value></param></params></methodCall>"
            % (s(sess), array(s("vm")), s(ev["token"])))
    c.request("POST", "/", body, {"Content-Type": "text/xml"})
    ok(p.VM.set_name_label(sess, vm, "woken"))
    r = c.getresponse()
    assert r.status == 200
    assert b"woken" in r.read()
    c.close()


def test_float_field_setters_refuse_nonfinite(daemon):
    p, sess = daemon.login()
    vm = new_vm(p, sess)
    for d in NONFINITE_XML:
        r = xml_call(daemon, "VM.set_HVM_shadow_multiplier",
                     [s(sess), s(vm), "<double>%s</double>" % d])
        fails(r, "FIELD_TYPE_ERROR", "HVM_shadow_multiplier")
    for v in NONFINITE_STR:
        fails(p.VM.set_HVM_shadow_multiplier(sess, vm, v),
              "FIELD_TYPE_ERROR", "HVM_shadow_multiplier")
    assert ok(p.VM.get_HVM_shadow_multiplier(sess, vm)) == 1.0
    ok(p.VM.set_HVM_shadow_multiplier(sess, vm, 1.5e308))
    assert ok(p.VM.get_HVM_shadow_multiplier(sess, vm)) == 1.5e308
    ok(p.VM.set_HVM_shadow_multiplier(sess, vm, "2.5"))
    assert ok(p.VM.get_HVM_shadow_multiplier(sess, vm)) == 2.5


def test_create_refuses_nonfinite_float_field(daemon):
    p, sess = daemon.login()
    before = len(ok(p.VM.get_all(sess)))
    for v in NONFINITE_STR:
        fails(p.VM.create(sess, {"name_label": "x", "HVM_shadow_multiplier": v}),
              "FIELD_TYPE_ERROR", "HVM_shadow_multiplier")
    r = xml_call(daemon, "VM.create", [s(sess), "<struct><member><name>name_label</name>"
                                       "<value>x</value></member><member><name>"
                                       "HVM_shadow_multiplier</name><value><double>inf"
                                       "</double></value></member></struct>"])
    fails(r, "FIELD_TYPE_ERROR", "HVM_shadow_multiplier")
    assert len(ok(p.VM.get_all(sess))) == before


def jsonrpc_raw(daemon, body):
    c = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=30)
    c.request("POST", "/jsonrpc", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def test_jsonrpc_nonfinite(daemon):
    p, sess = daemon.login()
    vm = new_vm(p, sess)
    tok = ok(p.event.__getattr__("from")(sess, ["vm"], "", 0.0))["token"]
    # JSON has no NaN or Infinity: those literals and numbers beyond the
    # double range are malformed requests (HTTP 500, as XAPI)
    for lit in ("NaN", "Infinity", "-Infinity", "1e999", "-1e400"):
        body = ('{"jsonrpc":"2.0","id":1,"method":"event.from","params":["%s",["vm"],"%s",%s]}'
                % (sess, tok, lit))
        status, _ = jsonrpc_raw(daemon, body)
        assert status == 500, lit
    # as strings they reach the parameter conversion, which refuses them
    for v in NONFINITE_STR:
        r = daemon.jsonrpc("event.from", [sess, ["vm"], tok, v])
        assert r["error"]["message"] == "FIELD_TYPE_ERROR", r
        assert r["error"]["data"] == ["timeout"], r
        r = daemon.jsonrpc("VM.set_HVM_shadow_multiplier", [sess, vm, v])
        assert r["error"]["message"] == "FIELD_TYPE_ERROR", r
        assert r["error"]["data"] == ["HVM_shadow_multiplier"], r
        r = daemon.jsonrpc("VM.set_HVM_shadow_multiplier", [sess, vm, v], v2=False)
        assert r["error"] == ["FIELD_TYPE_ERROR", "HVM_shadow_multiplier"], r
    r = daemon.jsonrpc("event.from", [sess, ["vm"], "", 1e308])   # events: at once
    assert "result" in r and "token" in r["result"], r
    r = daemon.jsonrpc("VM.set_HVM_shadow_multiplier", [sess, vm, -1.5e308])
    assert r.get("result") == "", r
    assert ok(p.VM.get_HVM_shadow_multiplier(sess, vm)) == -1.5e308
