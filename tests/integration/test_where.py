"""<class>.get_all_where and get_all_records_where: XAPI's filter
expressions, with the filters real clients send (docs/API.md)."""
from conftest import fails, ok
from test_api import new_vm


def test_filters_clients_use(daemon):
    p, s = daemon.login()
    web = new_vm(p, s, name_label="web")
    new_vm(p, s, name_label="db")
    host = ok(p.host.get_all(s))[0]
    # by name, with the database's name for the field (xe, XAPI's own code)
    r = ok(p.VM.get_all_records_where(s, 'field "name__label" = "web"'))
    assert list(r) == [web] and r[web]["name_label"] == "web"
    assert r[web] == ok(p.VM.get_record(s, web))            # complete records
    assert ok(p.VM.get_all_where(s, 'field "name__label" = "web"')) == [web]
    # the user's VMs: no templates, no dom0 (Xen Orchestra-style filters)
    mine = ok(p.VM.get_all_records_where(
        s, 'field "is_a_template"="false" and field "is_control_domain"="false"'))
    assert sorted(v["name_label"] for v in mine.values()) == ["db", "web"]
    # OpenStack nova: this host's control domain
    dom0 = ok(p.VM.get_all_records_where(
        s, 'field "is_control_domain"="true" and field "resident_on"="%s"' % host))
    assert [v["domid"] for v in dom0.values()] == ["0"]
    # XAPI's VM import: networks by bridge; create_storage: everything
    nets = ok(p.network.get_all_records_where(s, 'field "bridge"="xenbr0"'))
    assert [n["bridge"] for n in nets.values()] == ["xenbr0"]
    assert set(ok(p.SR.get_all_records_where(s, "true"))) == set(ok(p.SR.get_all(s)))
    assert ok(p.VM.get_all_where(s, "false")) == []
    # enums and ints as the database holds them; not, or, parentheses
    halted = ok(p.VM.get_all_where(s, 'field "power_state" = "Halted"'))
    assert set(halted) >= {web} and host not in halted
    assert ok(p.VM.get_all_where(
        s, 'not (field "name__label" = "db" or field "is_a_template" = "true"'
           ' or field "is_control_domain" = "true")')) == [web]
    ok(p.VM.add_tags(s, web, "blue"))
    ok(p.VM.add_to_other_config(s, web, "k", "v"))
    assert ok(p.VM.get_all_where(s, "field \"tags\" = \"('blue')\"")) == [web]
    assert ok(p.VM.get_all_where(s, "field \"other_config\" = \"(('k' 'v'))\"")) == [web]
    assert ok(p.VM.get_all_where(s, 'field "_ref" = "%s"' % web)) == [web]
    # over JSON-RPC too
    j = daemon.jsonrpc("VM.get_all_where", [s, 'field "name__label"="web"'])
    assert j["result"] == [web], j


def test_bad_expressions_are_xapis_invalid_value(daemon):
    p, s = daemon.login()
    for expr, why in (('field "name__label" = ', "expected a value"),
                      ('field "name_label" == "x"', "expected a value"),
                      ('field "name_label" <> "x"', "unexpected character"),
                      ("name_label = 'x'", "unexpected character"),
                      ('(true', "expected )"),
                      ('"unterminated', "closing quote"),
                      ("", "expected an expression")):
        r = fails(p.VM.get_all_records_where(s, expr), "INVALID_VALUE", expr)
        assert why in r[2], r
    r = fails(p.VM.get_all_where(s, 'field "colour" = "blue"'),
              "INVALID_VALUE", 'field "colour" = "blue"')
    assert r[2] == 'VM has no field "colour"'
    fails(p.VM.get_all_where(s), "MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.get_all_where", "1", "0")
    fails(p.VM.get_all_where(s, ["true"]), "FIELD_TYPE_ERROR")
    # a NUL inside the expression (JSON can carry one) is refused, not cut
    j = daemon.jsonrpc("VM.get_all_where", [s, "true\u0000 garbage"])
    assert j["error"]["message"] == "INVALID_VALUE", j
    # the daemon is still fine
    assert ok(p.VM.get_all_where(s, "true"))
    methods = p.system.listMethods()
    assert {"VM.get_all_where", "VM.get_all_records_where", "PIF.get_all_records_where"} <= set(methods)
