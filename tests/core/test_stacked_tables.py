"""The ``stacked`` filter: a table's body cells named after their columns, its parts given their ARIA roles."""

from markupsafe import Markup

from core.templating import stacked

TABLE = Markup(
    "<table class=\"units\"><caption>Units</caption>"
    "<thead><tr><th scope=\"col\">Unit</th><th scope=\"col\">People&#39;s <span>count</span></th></tr></thead>"
    "<tbody><tr><th scope=\"row\">Paris</th><td class=\"num\">12</td></tr><tr><th scope=\"row\">Lyon</th><td></td></tr>"
    "</tbody><tfoot><tr><th scope=\"row\">Others</th><td>3</td></tr></tfoot></table>")


def test_every_body_cell_carries_its_column_name_and_every_part_its_role():
    html = str(stacked(TABLE))
    assert html.startswith('<table role="table" data-stacked class="units">')
    assert html.count('<th role="columnheader" scope="col">') == 2
    assert html.count('<th role="rowheader" data-label="Unit" scope="row">') == 3
    assert html.count('<td role="cell" data-label="People&#39;s count"') == 3  # escaped once, tags left out
    assert html.count('<tr role="row">') == 4 and html.count('role="rowgroup"') == 3
    assert "<caption>Units</caption>" in html


def test_a_table_without_headings_gets_its_roles_and_no_labels():
    html = str(stacked(Markup("<table><tr><td>1</td></tr></table>")))
    assert html == '<table role="table" data-stacked><tr role="row"><td role="cell">1</td></tr></table>'
