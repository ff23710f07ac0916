// The fleet on a QtLocation Map with OpenStreetMap tiles (the tile server is a setting).
// Python owns the data: `markers` is a list model (roles deviceId, lat, lon, colour,
// selected); the track, alarms and view changes are pushed in through the functions below.
import QtQuick
import QtLocation
import QtPositioning

Item {
    id: root
    signal deviceClicked(string deviceId)
    property string tileUrl: tileUrlSetting   // "https://tile.openstreetmap.org/%z/%x/%y.png"

    function setTrack(points) {   // [[lat, lon], ...]
        var path = [];
        for (var i = 0; i < points.length; i++)
            path.push(QtPositioning.coordinate(points[i][0], points[i][1]));
        track.path = path;
    }
    function setAlarms(alarms) {  // [[lat, lon, name], ...]
        alarmModel.clear();
        for (var i = 0; i < alarms.length; i++)
            alarmModel.append({"lat": alarms[i][0], "lon": alarms[i][1], "name": alarms[i][2]});
    }
    function centreOn(lat, lon) { map.center = QtPositioning.coordinate(lat, lon); }
    function pointOf(lat, lon) {  // where a coordinate is drawn, in this item's pixels
        var p = map.fromCoordinate(QtPositioning.coordinate(lat, lon), false);
        return [p.x, p.y];
    }
    function trackLength() { return track.path.length; }
    function alarmCount() { return alarmModel.count; }
    function itemCount() { return map.mapItems.length; }  // markers, alarms and the track
    function fit(latMin, latMax, lonMin, lonMax) {
        map.visibleRegion = QtPositioning.rectangle(
            QtPositioning.coordinate(latMax, lonMin), QtPositioning.coordinate(latMin, lonMax));
        if (map.zoomLevel > 16) map.zoomLevel = 16;
    }

    ListModel { id: alarmModel }

    Plugin {
        id: osm
        name: "osm"
        PluginParameter { name: "osm.useragent"; value: "SealDesk" }
        PluginParameter { name: "osm.mapping.custom.host"; value: root.tileUrl }
        // one cache per tile server: QtLocation keys its cache by map type, not by server
        PluginParameter { name: "osm.mapping.cache.directory"; value: tileCacheSetting }
        PluginParameter { name: "osm.mapping.providersrepository.disabled"; value: true }
    }

    Rectangle { anchors.fill: parent; color: "#e8e8e4" }  // what offline looks like

    Map {
        id: map
        anchors.fill: parent
        plugin: osm
        zoomLevel: 2
        copyrightsVisible: true
        Component.onCompleted: {
            for (var i = 0; i < supportedMapTypes.length; i++)
                if (supportedMapTypes[i].style === MapType.CustomMap)
                    activeMapType = supportedMapTypes[i];
        }
        PinchHandler { target: null
            onScaleChanged: (delta) => map.zoomLevel += Math.log2(delta) }
        WheelHandler {
            acceptedDevices: PointerDevice.Mouse | PointerDevice.TouchPad
            onWheel: (event) => map.zoomLevel += event.angleDelta.y / 240 }
        DragHandler { target: null
            onTranslationChanged: (delta) => map.pan(-delta.x, -delta.y) }

        MapPolyline { id: track; line.width: 3; line.color: "#2f6fba" }

        MapItemView {
            model: markers
            delegate: MapQuickItem {
                coordinate: QtPositioning.coordinate(model.lat, model.lon)
                anchorPoint.x: dot.width / 2
                anchorPoint.y: dot.height / 2
                z: model.selected ? 10 : 1
                sourceItem: Item {
                    width: dot.width; height: dot.height
                    Rectangle {
                        id: dot
                        width: model.selected ? 20 : 13; height: width; radius: width / 2
                        color: model.colour
                        border.color: model.selected ? "#111111" : "white"
                        border.width: model.selected ? 3 : 1.5
                    }
                    Text {
                        visible: model.selected
                        anchors.left: dot.right; anchors.leftMargin: 4
                        anchors.verticalCenter: dot.verticalCenter
                        text: model.deviceId; font.bold: true; style: Text.Outline; styleColor: "white"
                    }
                    MouseArea { anchors.fill: dot; cursorShape: Qt.PointingHandCursor
                        onClicked: root.deviceClicked(model.deviceId) }
                }
            }
        }
        MapItemView {
            model: alarmModel
            delegate: MapQuickItem {
                coordinate: QtPositioning.coordinate(model.lat, model.lon)
                anchorPoint.x: 8; anchorPoint.y: 8; z: 5
                sourceItem: Rectangle {
                    width: 16; height: 16; rotation: 45; color: "#d03b3b"; border.color: "white"
                    MouseArea { id: hover; anchors.fill: parent; hoverEnabled: true }
                    Text { visible: hover.containsMouse; text: model.name; rotation: -45
                           x: 18; font.bold: true; style: Text.Outline; styleColor: "white" }
                }
            }
        }
    }
}
