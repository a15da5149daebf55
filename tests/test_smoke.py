def test_home_lists_active_categories(client, session):
    from tests.factories import make_category

    make_category(session, name="Luminaria apagada")
    make_category(session, name="Categoría retirada", active=False)
    session.commit()
    html = client.get("/").get_data(as_text=True)
    assert "Luminaria apagada" in html
    assert "Categoría retirada" not in html
